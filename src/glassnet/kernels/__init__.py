"""The kernels layer: how the ops compute, in NumPy only.

Rule: a module here imports nothing from ``glassnet.autograd``, ``glassnet.ops`` or ``glassnet.nn``
(no Tensor, no autograd); it takes and returns arrays. ``glassnet.ops`` keeps the ``Function``
classes, the argument checks and the choice of kernel (``tests/kernels/test_layering.py``), and
``glassnet.ops.reference`` the textbook forms each kernel is tested against.

* ``conv_layout``, ``conv_gemm``: convolution as GEMMs on a padded, phase-split packed layout;
* ``pooling``, ``pool_scan``: pooling windows (separable sums and maxima; max pooling's scan);
* ``rnn``, ``lstm``, ``gru``, ``time_plan``: the recurrent step loops and BPTT;
* ``scratch``: per-thread reusable buffers.
"""
