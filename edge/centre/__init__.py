"""The monitoring centre: the collector that stores what the fleet publishes, the queries over that
store, and the central fusion worker for boxes without internet egress (``fusion.mode: central``).

It ships with the box's code so that one install serves both ends, and nothing of it runs on a box
unless asked (``liveguard collect``, ``liveguard results``, ``liveguard fuse --serve``).
"""
