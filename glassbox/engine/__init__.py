"""The engine every front-end runs: the TFX executors, the `glassbox` CLI and the native KFP
components call it and only map its outcome onto their own artifact APIs."""
