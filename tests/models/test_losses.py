"""Each loss against a value computed by hand."""

import math

import pytest
import torch

from desktop_app.models.losses import (
    dual_loss,
    dual_loss_weight,
    hinge_rank_loss,
    pairwise_ranking_loss,
    sigmoid_cross_entropy,
    softmax_loss,
)


def test_hinge_rank_loss_seed000_eq5():
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    emb = torch.tensor([[0.5, 0.5], [1.0, 0.0]])
    # clip 0 (class 0): scores 0.5, 0.5, 0.7 → (0.4 − 0.5 + 0.5) + (0.4 − 0.5 + 0.7) = 0.4 + 0.6
    # clip 1 (class 2): scores 1, 0, 0.6 → max(0, 0.4 − 0.6 + 1) + max(0, 0.4 − 0.6 + 0) = 0.8
    loss = hinge_rank_loss(emb, torch.tensor([0, 2]), labels, margin=0.4)
    assert loss.tolist() == pytest.approx([1.0, 0.8])


def test_softmax_loss_seed000_eq6_7():
    loss = softmax_loss(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([2]))
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-1) + math.exp(-2)))


LABELS = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.8, 0.6]])
# clip 1 is not unit length: the loss works on cosine similarity.
CLIPS = torch.tensor([[1.0, 0.0], [0.0, 2.0]])


def test_pairwise_ranking_loss_hard_negatives():
    # clip 0 (class 0): verb terms 0.5−1+0.6=0.1, 0, 0.5−1+0.8=0.3 → hardest 0.3; clip term 0.5−1+0 → 0
    # clip 1 (class 1, s=0.8): verb terms 0, 0.5−0.8+1=0.7, 0.5−0.8+0.6=0.3 → 0.7; clip term 0.5−0.8+0.6=0.3
    loss = pairwise_ranking_loss(CLIPS, torch.tensor([0, 1]), LABELS, margin=0.5, hard_negatives=True)
    assert loss.tolist() == pytest.approx([0.3, 1.0])


def test_pairwise_ranking_loss_all_negatives():
    loss = pairwise_ranking_loss(CLIPS, torch.tensor([0, 1]), LABELS, margin=0.5, hard_negatives=False)
    assert loss.tolist() == pytest.approx([0.4, 1.3])


def test_sigmoid_cross_entropy():
    loss = sigmoid_cross_entropy(torch.tensor([[0.0, 2.0]]), torch.tensor([1]))
    assert loss.item() == pytest.approx(math.log(2) + math.log(1 + math.exp(-2)))


def test_dual_loss_weight_schedule_seed001():
    assert dual_loss_weight(0, 0.5) == 1.0
    assert dual_loss_weight(0, 0.75) == 0.02
    assert dual_loss_weight(3, 0.0) == 0.02


def test_dual_loss_adds_weighted_cross_entropy():
    logits = torch.tensor([[0.0, 2.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    targets = torch.tensor([0, 1])
    expected = pairwise_ranking_loss(CLIPS, targets, LABELS, 0.5) + 0.02 * sigmoid_cross_entropy(
        logits, targets
    )
    got = dual_loss(CLIPS, logits, targets, LABELS, weight=0.02, margin=0.5)
    assert torch.allclose(got, expected)
    assert not torch.allclose(got, pairwise_ranking_loss(CLIPS, targets, LABELS, 0.5))
