"""``python -m lora_studio`` → the command line."""

from lora_studio.cli.__main__ import main

raise SystemExit(main())
