"""Docstring text of the convolution functional forms (``glassnet.ops.conv``).

The per-dimension templates and doctest examples of ``conv1d`` ... ``conv_transpose3d``, and the
output-size formulas, which ``glassnet.nn.conv`` shares for its layers.
"""

# The output-size formulas of the docstrings (``dim_fields`` fills in the axes), shared with the
# layers in glassnet.nn.conv.
CONV_OUT = (
    "{X}_out = floor(({X} + 2 padding{i} - dilation{i} ({k} - 1) - 1) / stride{i}) + 1{alike}"
)
CONV_TRANSPOSE_OUT = (
    "{X}_out = ({X} - 1) stride{i} - 2 padding{i} + dilation{i} ({k} - 1) + output_padding{i} "
    "+ 1{alike}"
)

CONV_DOC = """{nd}-d cross-correlation (see ``conv_nd``).
Reference (textbook) form: ``glassnet.ops.reference.conv``.

Shapes:
    input: (N, C, {S}) or (C, {S})   weight: (F, C / groups, {K})   bias: (F,)
    y: (N, F, {S_out})
    {out}
{example}"""

CONV_TRANSPOSE_DOC = """{nd}-d transposed convolution (see ``conv_transpose_nd``).
Reference (textbook) form: the input gradient of ``glassnet.ops.reference.conv``.

Shapes:
    input: (N, C, {S}) or (C, {S})   weight: (C, F / groups, {K})   bias: (F,)
    y: (N, F, {S_out})
    {out}
{example}"""


EXAMPLES = {
    "conv1d": """>>> import glassnet
>>> conv1d(glassnet.ones(1, 1, 5), glassnet.ones(1, 1, 3)).tolist()
[[[3.0, 3.0, 3.0]]]""",
    "conv2d": """>>> import glassnet
>>> conv2d(glassnet.ones(2, 3, 8, 8), glassnet.ones(4, 3, 3, 3), stride=2).shape
(2, 4, 3, 3)""",
    "conv3d": """>>> import glassnet
>>> conv3d(glassnet.ones(1, 1, 4, 4, 4), glassnet.ones(2, 1, 3, 3, 3), padding="same").shape
(1, 2, 4, 4, 4)""",
    "conv_transpose1d": """>>> import glassnet
>>> conv_transpose1d(glassnet.ones(1, 1, 3), glassnet.ones(1, 1, 2), stride=2).tolist()
[[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]]""",
    "conv_transpose2d": """>>> import glassnet
>>> conv_transpose2d(glassnet.ones(1, 4, 5, 5), glassnet.ones(4, 2, 4, 4), stride=2,
...                  padding=1).shape
(1, 2, 10, 10)""",
    "conv_transpose3d": """>>> import glassnet
>>> conv_transpose3d(glassnet.ones(1, 1, 2, 2, 2), glassnet.ones(1, 3, 2, 2, 2)).shape
(1, 3, 3, 3, 3)""",
}
