"""`liveguard serve`: the daemon that watches streams, and what it reports about itself."""
