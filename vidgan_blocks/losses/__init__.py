"""Losses: geometric hinge pairs and orthogonal regularisation."""

from .hinge import DiscriminatorOutputs, d_hinge_loss, flatten_outputs, g_hinge_loss
from .regularization import orthogonal_regularization

__all__ = ["DiscriminatorOutputs", "d_hinge_loss", "flatten_outputs", "g_hinge_loss", "orthogonal_regularization"]
