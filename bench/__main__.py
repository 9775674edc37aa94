"""``python -m bench``: the scale benchmark (bench/scale/run.py); ``--help`` for its options."""

from bench.scale.run import main

main()
