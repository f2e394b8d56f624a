"""Hits → Answer: decide whether the passages answer at all, and pick the answering sentences."""
