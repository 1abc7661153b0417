"""The export pipeline: select and plan tables (a frozen plan per table), run one task per
chunk on an executor, resume from what is on disk, and keep the run's records."""
