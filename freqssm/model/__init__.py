"""The model layer: the S4D and S5 Flax layers (``layers``), the residual sequence block
(``blocks``), encoder -> blocks -> head models (``models``) and recurrent inference (``infer``).
It imports the SSM math (``freqssm.ssm``) and the task description (``freqssm.data.base.Meta``),
never the training or analysis code."""
