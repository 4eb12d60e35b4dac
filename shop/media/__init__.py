"""Uploaded and generated images: checked, re-encoded to WebP at a few widths, stored
under random names, served with long cache lifetimes (names never change)."""
