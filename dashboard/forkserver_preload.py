"""Imported once, by the forkserver that every training worker is forked from (dashboard.workers).

Importing this pays PyTorch's start-up in that one process: the imports, the first optimizer
(which loads torch._dynamo), and the kernels a small run touches. Workers forked afterwards share
those memory pages instead of each loading their own copy, and no student's run waits for them.
Nothing here runs in the Streamlit server.
"""

import gc

import rnn_core

rnn_core.warm_up(num_threads=1)  # one PyTorch thread: each worker trains on one core
gc.collect()
gc.freeze()  # later collections in the workers leave these objects (and their shared pages) alone
