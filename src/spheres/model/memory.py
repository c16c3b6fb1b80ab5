"""What buyers know and believe about sellers, and what a full memory forgets.

The arrays are the buyers' (``spheres.model.state.BuyerArrays``): ``aware``, and in each memory
cell the belief, the last claim heard and its source's kind, who introduced the seller, of what
kind and when, and the spend there. :class:`Memory` is the one place that changes them: learning
of sellers (:meth:`Memory.make_aware`), revising beliefs (:meth:`Memory.revise`,
:meth:`Memory.believe`), hearing claims (:meth:`Memory.hear_claims`), answering them by an
experience (:meth:`Memory.experience`) and, under a cap (``market.max_known``), forgetting the
sellers a buyer ranks lowest. Both engines call it: the vectorised engine with whole arrays, the
per-agent engine with one buyer's row; the model calls it at set-up and when a seller enters.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spheres.model import rules
from spheres.model.state import BuyerArrays, SellerArrays

# Buyers handled at once where the set-up or a phase could otherwise build temporaries of
# buyers x sellers (initial awareness, ranking what overflows memory).
ROWS_AT_ONCE = 65_536


def _groups(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal rows in ``rows`` (sorted ascending).

    Returns the distinct rows, how often each occurs, and for every entry the index of its row
    among them and its rank within that row's run.
    """
    owners, start, count = np.unique(rows, return_index=True, return_counts=True)
    group = np.repeat(np.arange(owners.size), count)
    return owners, count, group, np.arange(rows.size) - start[group]


@dataclass
class Told:
    """What buyers had been told about the sellers they just tried, one entry per purchase."""

    claim: np.ndarray  # the fit last claimed to the buyer about the seller
    claim_kind: np.ndarray  # that claim's source kind (0: no claim pending)
    introducer: np.ndarray  # who made the buyer aware of the seller (buyer or seller row)
    intro_kind: np.ndarray  # of what kind (NO_SOURCE, PEER, INFLUENCER_SRC or AD)


class Memory:
    """The buyers' memory of sellers: what they know, believe and were told, and by whom.

    ``step`` is the step being run (the model sets it before each step, as for the ledger): a
    buyer that learns of a seller in phase ``p`` of step ``t`` records ``aware_time = 10 t + p``.
    ``ties(when, rows, sellers)`` gives the random keys (``draws.tie_keys``) that order the
    (buyer, seller) pairs a full memory ranks equal.
    """

    def __init__(self, buyers: BuyerArrays, sellers: SellerArrays,
                 ties: Callable[..., np.ndarray]) -> None:
        """Hold the buyer arrays, the seller arrays whose counts it keeps, and the tie keys.

        ``ties`` gives the random keys that break ties when a full memory forgets.
        """
        self.buyers = buyers
        self.sellers = sellers
        self.ties = ties
        self.n_slots = sellers.alive.size
        self.step = 0

    # -- reading ------------------------------------------------------------------------------
    def known_pairs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The alive sellers each of buyers ``rows`` knows.

        Returns (index into ``rows``, seller, flat memory index) triples, sorted by buyer then
        seller.
        """
        so = self.sellers.n_opened  # slots not yet opened are never known
        i, s, cell = self.buyers.known_of(rows, so)
        alive = self.sellers.alive
        if not alive[:so].all():
            live = alive[s]
            i, s, cell = i[live], s[live], cell[live]
        return i, s, cell

    # -- learning -----------------------------------------------------------------------------
    def make_aware(self, rows: np.ndarray, sellers: np.ndarray, sources: np.ndarray | np.integer,
                   kind: int, phase: int, belief: np.ndarray | None = None) -> None:
        """Record that buyers ``rows`` learned of ``sellers`` they did not know (each pair once).

        They learned from ``sources`` (of ``kind``), believing ``belief`` of them (else the
        prior). A buyer whose memory is full keeps the sellers it ranks highest
        (:meth:`_make_room`).
        """
        if rows.size == 0:
            return
        b = self.buyers
        when = 10 * self.step + phase
        capped = b.slot is not None
        if capped:
            sources = np.broadcast_to(sources, rows.shape)
            belief = np.broadcast_to(b.prior if belief is None else belief, rows.shape)
            keep = self._make_room(rows, sellers, belief, when)
            rows, sellers, sources, belief = rows[keep], sellers[keep], sources[keep], belief[keep]
        b.aware[rows, sellers] = True
        cells = b.cells(rows, sellers)
        if belief is not None:  # without a cap a cell not known holds the prior already
            b.belief.reshape(-1)[cells] = belief
        b.introducer.reshape(-1)[cells] = sources
        b.intro_kind.reshape(-1)[cells] = kind
        b.aware_time.reshape(-1)[cells] = when
        if capped:  # a reused cell starts afresh (without a cap none is reused)
            b.claim.reshape(-1)[cells] = 0.0
            b.claim_kind.reshape(-1)[cells] = 0
            b.spend_by.reshape(-1)[cells] = 0
        self.sellers.aware_count += np.bincount(sellers, minlength=self.n_slots)
        if rules.advised(kind):
            np.add.at(b.informed, sources, 1)

    def revise(self, rows: np.ndarray, sellers: np.ndarray, belief: np.ndarray) -> None:
        """Set buyers' ``belief`` about ``sellers`` they know (each pair once)."""
        b = self.buyers
        b.belief.reshape(-1)[b.cells(rows, sellers)] = belief

    def believe(self, rows: np.ndarray, sellers: np.ndarray, belief: np.ndarray,
                sources: np.ndarray, kind: int, phase: int) -> None:
        """Set buyers' ``belief`` about ``sellers`` (each pair once), known or not.

        Those they did not know they learn of from ``sources`` (:meth:`make_aware`), after the
        known ones are written.
        """
        new = ~self.buyers.aware[rows, sellers]
        self.revise(rows[~new], sellers[~new], belief[~new])
        self.make_aware(rows[new], sellers[new], sources[new], kind, phase=phase,
                        belief=belief[new])

    def hear_claims(self, rows: np.ndarray, sellers: np.ndarray, claims: np.ndarray,
                    kind: int) -> None:
        """Record the fit claimed to buyers ``rows`` about ``sellers`` by a source of ``kind``.

        The last claim heard is the one an experience answers; a claim about a seller the buyer
        does not hold in mind is not kept.
        """
        b = self.buyers
        if b.slot is not None:
            held = b.aware[rows, sellers]
            rows, sellers, claims = rows[held], sellers[held], np.asarray(claims)[held]
        cells = b.cells(rows, sellers)
        b.claim.reshape(-1)[cells] = claims
        b.claim_kind.reshape(-1)[cells] = kind

    def experience(self, rows: np.ndarray, sellers: np.ndarray, felt: np.ndarray,
                   rate: float) -> Told:
        """Buyers ``rows`` felt the fit ``felt`` of ``sellers`` they bought (each buyer once).

        Their beliefs move toward it (``rules.learn`` at ``rate``) and the claims they had heard
        about those sellers are answered (cleared); returns what they had been told, and by
        whom.
        """
        b = self.buyers
        cells = b.cells(rows, sellers)
        belief, claim_kind = b.belief.reshape(-1), b.claim_kind.reshape(-1)
        belief[cells] = rules.learn(belief[cells], felt, rate)
        told = Told(b.claim.reshape(-1)[cells], claim_kind[cells],
                    b.introducer.reshape(-1)[cells], b.intro_kind.reshape(-1)[cells])
        claim_kind[cells] = 0
        return told

    # -- forgetting ---------------------------------------------------------------------------
    def _make_room(self, rows: np.ndarray, sellers: np.ndarray, belief: np.ndarray,
                   when: int) -> np.ndarray:
        """Give each newly learned (buyer, seller) pair a memory cell, or not; return which got one.

        A buyer keeps the ``max_known`` sellers it ranks highest among those it knew and those
        it just learned of, and forgets the rest: a seller that has left ranks below every
        alive one, then a lower belief ranks lower, then (on equal beliefs) the earlier learned,
        then (learned at the same time too) the one of lower random key. New pairs take free
        cells in seller order.
        """
        b, k = self.buyers, self.buyers.k
        assert b.slot is not None and b.held is not None
        key = rows * self.n_slots + sellers
        ordered = bool(np.all(key[1:] > key[:-1]))  # as most phases give them
        order = np.arange(key.size) if ordered else np.argsort(key, kind="stable")
        r, s, belief = rows[order], sellers[order], belief[order]
        owners, count, group, rank = _groups(r)
        room = np.count_nonzero(b.held[owners] >= 0, axis=1)
        over = count > k - room
        keep = np.ones(r.size, dtype=bool)
        if over.any():
            full = owners[over]
            mine = np.flatnonzero(over[group])  # the new pairs of buyers over their room
            gi = (np.cumsum(over) - 1)[group[mine]]  # their buyer's index in ``full``
            bounds = np.searchsorted(gi, np.arange(0, full.size + ROWS_AT_ONCE, ROWS_AT_ONCE))
            for lo, hi in itertools.pairwise(bounds):
                if hi > lo:
                    a = gi[lo]
                    keep[mine[lo:hi]] = self._rank_out(
                        full[a:gi[hi - 1] + 1], gi[lo:hi] - a, rank[mine[lo:hi]],
                        s[mine[lo:hi]], belief[mine[lo:hi]], when)
            r, s = r[keep], s[keep]
            owners, count, group, rank = _groups(r)
        # the kept new pairs take their buyers' free cells, in seller order
        free = b.held[owners] < 0
        n_free = np.count_nonzero(free, axis=1)
        first = np.cumsum(n_free) - n_free
        col = np.flatnonzero(free)[first[group] + rank] - group * k
        b.held[r, col] = s
        b.slot[r, s] = col
        out = np.empty(rows.size, dtype=bool)
        out[order] = keep
        return out

    def _rank_out(self, full: np.ndarray, gi: np.ndarray, rank: np.ndarray, s: np.ndarray,
                  belief: np.ndarray, when: int) -> np.ndarray:
        """Forget what buyers ``full`` have no room for; return which new pairs are kept.

        The buyers learned more sellers than they have room for: the new pairs are
        (``full[gi]``, ``s``), the ``rank``-th new seller of their buyer, believed ``belief``.
        Each forgets the known sellers it ranks lowest (see :meth:`_make_room`).
        """
        b, k, alive = self.buyers, self.buyers.k, self.sellers.alive
        assert b.slot is not None and b.held is not None
        width = k + int(rank.max()) + 1
        col = k + rank
        seller = np.full((full.size, width), -1, dtype=np.int64)
        seller[:, :k] = b.held[full]
        value = np.full((full.size, width), -np.inf)
        value[:, :k] = np.take(b.belief, full, axis=0)
        learned = np.full((full.size, width), -1, dtype=np.int64)
        learned[:, :k] = np.take(b.aware_time, full, axis=0)
        seller[gi, col], value[gi, col], learned[gi, col] = s, belief, when
        valid = seller >= 0
        value[~valid | ~alive[np.maximum(seller, 0)]] = -np.inf
        tie = self.ties(when, full[:, None], seller)
        # ascending = forgotten first: by value, then the earlier learned, then the lower key
        o = np.lexsort((tie, learned, value), axis=1)
        lost = np.zeros_like(valid)
        np.put_along_axis(lost, o[:, : width - k], True, axis=1)
        lost &= valid
        fi, fc = np.nonzero(lost[:, :k])  # known sellers forgotten
        fr, fs = full[fi], seller[fi, fc]
        b.aware[fr, fs] = False
        b.slot[fr, fs] = -1
        b.held[fr, fc] = -1
        self.sellers.aware_count -= np.bincount(fs, minlength=self.n_slots)
        return ~lost[gi, col]
