"""Live progress over websockets: consumers, their authentication, snapshots and tails."""
