"""Compiling: many children's proposals that ask for the same thing become one recommendation."""
