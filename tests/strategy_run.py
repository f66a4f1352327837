"""Train in a separate Python under a distribution strategy, for the tests of training/learn/distribution.py:
TensorFlow fixes its devices and cluster when it starts.

    python tests/strategy_run.py '<TrainConfig fields as JSON>' <logical CPU devices>

prints the TrainResult as JSON on its last line.
"""
import json
import sys
from dataclasses import asdict

if __name__ == "__main__":
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * int(sys.argv[2]))

    from training.config import TrainConfig
    from training.learn.train import train

    print(json.dumps(asdict(train(TrainConfig(**json.loads(sys.argv[1]))))))
