"""The machine and the processes around the jobs: devices, the managed environment, the worker's client, the
environment check. Standard library only."""
