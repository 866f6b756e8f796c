"""``python -m lora_studio.workers.wd14``; kept import-free so spawned decoding workers start light."""

if __name__ == "__main__":
    import sys

    from lora_studio.workers.wd14.run import main

    sys.exit(main())
