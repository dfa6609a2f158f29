"""The read cache: a data revision bumped by every commit that changes plan data, and immutable cached values."""
