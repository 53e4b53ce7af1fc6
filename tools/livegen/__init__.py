"""Synthetic livestream clips with ground truth: one renderer for the bundled demo and the benchmark.

Modules follow the picture's way to the file: ``scene`` (geometry and motion scripts), ``render``
(package, studio, hand, camera), ``overlay`` (live-room UI drawn after the camera), ``speech`` and
``encode`` (audio and ffmpeg), ``truth`` (the per-clip record), ``clip`` (one clip end to end),
``products`` (the catalogue), ``benchmark`` (seeded clip recipes) and ``coco`` (detector annotations).
Scripts in ``tools/`` put ``tools/`` on ``sys.path`` and import ``livegen``.
"""
