"""Training on several devices or machines with TensorFlow's own distribution strategies.

``default`` trains on one device as TensorFlow places it; ``mirrored`` copies the model onto every GPU of this
machine (onto every logical CPU device where there is no GPU) and averages their gradients every step;
``multiworker`` does so across the machines that ``TF_CONFIG`` names (``MultiWorkerMirroredStrategy``), each
running the same training, each reading its own share of the chips. Each replica takes a batch of the
configured size, so the global batch is that size times the replicas.
"""
from __future__ import annotations

import json
import os

from ..errors import GeoSegError


def strategy_for(name: str):
    """The ``tf.distribute`` strategy named ``name`` (one of :data:`~training.config.STRATEGIES`)."""
    import tensorflow as tf

    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    if name == "multiworker":
        _check_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def _check_tf_config() -> None:
    try:
        cluster = json.loads(os.environ["TF_CONFIG"])
        workers, task = cluster["cluster"]["worker"], cluster["task"]
        assert isinstance(workers, list) and task["type"] in ("worker", "chief") and int(task["index"]) >= 0
    except (KeyError, ValueError, TypeError, AssertionError):
        raise GeoSegError('The multiworker strategy needs TF_CONFIG: set it on every machine to JSON such as '
                          '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", '
                          '"index": 0}}, with each machine\'s own index (0 on the chief, which writes the model).'
                          ) from None


def is_chief(strategy) -> bool:
    """Whether this process writes the outputs: always on one machine; under ``multiworker``, the ``chief`` task
    or, where the cluster has none, worker 0."""
    resolver = getattr(strategy, "cluster_resolver", None)
    cluster = resolver.cluster_spec().as_dict() if resolver else {}
    if not cluster:
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                             and "chief" not in cluster)


def distribute(strategy, source, batch_size: int, augment: bool = False, seed: int = 0, jitter: float = 0.0):
    """``source``'s batches (one of ``batch_size`` per replica, repeated) spread over the strategy's replicas,
    and the steps of one pass over the whole source."""
    def per_worker(context):
        return source.dataset(context.get_per_replica_batch_size(global_batch), augment, seed, jitter,
                              (context.num_input_pipelines, context.input_pipeline_id)).repeat()

    global_batch = batch_size * strategy.num_replicas_in_sync
    return strategy.distribute_datasets_from_function(per_worker), -(-len(source) // global_batch)


def fit_across_workers(model, strategy, x, steps_per_epoch: int, validation_data, validation_steps: int,
                       epochs: int, initial_epoch: int, callbacks: list) -> None:
    """``model.fit`` for ``MultiWorkerMirroredStrategy``, whose Keras 3 ``fit`` fails before the first step
    (keras-team/keras#20585): Keras' own train and test steps on every replica, the metrics read after each pass
    (summed over all workers, so every worker sees the same figures and stops at the same epoch), and the
    callbacks called as ``fit`` calls them."""
    import keras
    import tensorflow as tf

    callbacks = keras.callbacks.CallbackList(callbacks, model=model)
    train_step = tf.function(lambda batches: strategy.run(model.train_step, args=(next(batches),)),
                             reduce_retracing=True)
    test_step = tf.function(lambda batches: strategy.run(model.test_step, args=(next(batches),)),
                            reduce_retracing=True)
    training, validation = iter(x), iter(validation_data)
    model.stop_training, logs = False, {}
    callbacks.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        for step in range(steps_per_epoch):
            callbacks.on_train_batch_begin(step)
            train_step(training)
            callbacks.on_train_batch_end(step)
            if model.stop_training:
                break
        logs = _results(model)
        model.reset_metrics()
        for _ in range(validation_steps):
            test_step(validation)
        logs.update({f"val_{name}": value for name, value in _results(model).items()})
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end(logs)


def _results(model) -> dict:
    return {name: float(value) for name, value in model.get_metrics_result().items()}
