"""The kernels layer: how the ops compute, in NumPy only.

Rule: a module here imports nothing from ``glassnet.autograd``, ``glassnet.ops`` or ``glassnet.nn``
(no Tensor, no autograd); it takes and returns arrays. ``glassnet.ops`` keeps the ``Function``
classes, the argument checks and the choice of kernel (``tests/kernels/test_layering.py``).
"""
