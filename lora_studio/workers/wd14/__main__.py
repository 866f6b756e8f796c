"""``python -m lora_studio.workers.wd14``: the tagging worker that the job engine runs."""

if __name__ == "__main__":
    import sys

    from lora_studio.workers.wd14.run import main

    sys.exit(main())
