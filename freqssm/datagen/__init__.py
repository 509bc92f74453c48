"""Seeded generators of the synthetic LRA data sets, each a command writing the official layout.

* ``python -m freqssm.datagen.listops --out DIR``: ListOps (``listops-1000/basic_*.tsv``);
* ``python -m freqssm.datagen.pathfinder --out DIR --resolution 32|128 --n N``: Pathfinder and
  Path-X (``pathfinder{R}/curv_contour_length_14/``).

They are tools, not part of training: nothing in :mod:`freqssm` imports them.
"""
