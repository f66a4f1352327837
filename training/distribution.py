"""Training on several devices with TensorFlow's own distribution strategies.

``default`` trains on one device as TensorFlow places it; ``mirrored`` copies the model onto every GPU of this
machine (onto every logical CPU device where there is no GPU) and averages their gradients every step. Each
replica takes a batch of the configured size, so the global batch is that size times the replicas.

Several machines (``MultiWorkerMirroredStrategy``) are not offered: Keras 3's ``fit`` fails under it
(keras-team/keras#20585; with Keras 3.15 and TensorFlow 2.21 too).
"""
from __future__ import annotations


def strategy_for(name: str):
    """The ``tf.distribute`` strategy named ``name`` (one of :data:`~training.config.STRATEGIES`)."""
    import tensorflow as tf

    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    return tf.distribute.get_strategy()


def distribute(strategy, source, batch_size: int, augment: bool = False, seed: int = 0, jitter: float = 0.0):
    """``source``'s batches (one of ``batch_size`` per replica, repeated) spread over the strategy's replicas,
    and the steps of one pass over the whole source."""
    def per_worker(context):
        return source.dataset(context.get_per_replica_batch_size(global_batch), augment, seed, jitter,
                              (context.num_input_pipelines, context.input_pipeline_id)).repeat()

    global_batch = batch_size * strategy.num_replicas_in_sync
    return strategy.distribute_datasets_from_function(per_worker), -(-len(source) // global_batch)
