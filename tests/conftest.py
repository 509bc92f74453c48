import os

# Tests never talk to wandb's servers and never use more threads than the machine has.
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")
