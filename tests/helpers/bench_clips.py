"""The shared small benchmark of the tools tests: seed 2 covers Chinese and English packaging, both
orientations, clips with and without audio and with and without a final transition card."""

BENCH_SEED, BENCH_CLIPS, BENCH_SECONDS = 2, 5, 5.0
