"""The struct-of-arrays state of the market: one numpy array per attribute, indexed by row.

Buyers (influencers included) are rows ``0..N-1``; sellers are rows ``0..S_cap-1`` of the seller
arrays, where ``S_cap`` is the initial sellers plus the room kept for entrants. ``aware`` has a
column for every slot from the start, so that an entrant needs no copy of it: a slot not yet opened
is a seller no buyer knows and that is not alive.

What a buyer holds about a seller it knows (belief, the last claim, who introduced it, when, the
spend there) lives in its *memory*: ``K`` cells per buyer. Without a cap (``market.max_known`` 0)
``K = S_cap`` and cell ``j`` is seller ``j``. With a cap, ``K = max_known``: ``slot`` says which
cell holds a known seller and ``held`` which seller a cell holds, so memory grows with the sellers
a buyer can hold in mind, not with all sellers. A seller the buyer does not know has the prior
belief and no claim, source or spend.
Money is integer cents, social currency integer points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Kind of source of a buyer's awareness of a seller (``intro_kind``) or of the last claim it heard
# about it (``claim_kind``); ``kind - 1`` is the trust column. AD is any seller-made source (an
# ad or a free trial).
NO_SOURCE, PEER, INFLUENCER_SRC, AD = 0, 1, 2, 3


@dataclass
class BuyerArrays:
    """Per-buyer state; shape ``(N,)`` unless noted."""

    expect: np.ndarray  # (N, D) float64: where the buyer's expectations are
    taste: np.ndarray  # (N, D) float64: the buyer's fixed offset from the frontier
    drift_rate: np.ndarray  # float64: the buyer's own rate of following the frontier
    need_mean: np.ndarray  # float64: the buyer's own mean number of needs per step
    need: np.ndarray  # int64: the buyer's number of needs this step (units it would buy)
    aware: np.ndarray  # (N, S) bool: knows the seller
    belief: np.ndarray  # (N, K) float64: believed fit of the seller in each memory cell
    trust: np.ndarray  # (N, 3) float64: trust in peers, influencers, sellers
    currency: np.ndarray  # int64: social-currency balance (points)
    money: np.ndarray  # int64: the wallet: cents from cash-outs, not yet spent
    money_in: np.ndarray  # int64: cents credited to the wallet from points (cash-outs), in all
    wallet_spent: np.ndarray  # int64: cents of purchases paid from the wallet, in all
    is_influencer: np.ndarray  # bool
    credibility: np.ndarray  # float64 in [0, 1]: an influencer's credibility
    sponsor_of: np.ndarray  # int32: seller sponsoring this influencer, -1 if none
    introducer: np.ndarray  # (N, K) int32: who made the buyer aware (buyer row or seller row)
    intro_kind: np.ndarray  # (N, K) int8: NO_SOURCE, PEER, INFLUENCER_SRC or AD
    aware_time: np.ndarray  # (N, K) int32: 10*step + phase when the buyer became aware, -1 never
    claim: np.ndarray  # (N, K) float64: the fit last claimed to the buyer about the seller
    claim_kind: np.ndarray  # (N, K) int8: its source's kind, 0 once an experience answered it
    spend_by: np.ndarray  # (N, K) int64: cents spent at the seller while the buyer knew it
    spent: np.ndarray  # int64: cents spent in all (lifetime value)
    purchases: np.ndarray  # int64: purchases made
    caused: np.ndarray  # int64: purchases its advice caused (true influence)
    caused_spend: np.ndarray  # int64: cents spent in the purchases its advice caused
    helped: np.ndarray  # int64: purchases its advice caused that satisfied the buyer
    talks: np.ndarray  # int64: times it was asked as a contact (activity)
    posts: np.ndarray  # int64: posts made (activity)
    reads: np.ndarray  # int64: follower reads of its posts (engagement)
    thanks: np.ndarray  # int64: thank-yous received (mentions, engagement)
    informed: np.ndarray  # int64: awareness it created in others (attribution)
    n_followers: np.ndarray  # int64: audience size
    exposed: np.ndarray  # int64: times a follower found out an undisclosed sponsored post
    promoted_step: np.ndarray  # int32: step it became an influencer by audience growth, -1 never
    prior: float  # the belief about a seller the buyer does not know
    slot: np.ndarray | None = None  # (N, S) int8/int16: memory cell holding the seller, -1 none
    #                                 (with a cap only)
    held: np.ndarray | None = None  # (N, K) int16: seller held in each memory cell, -1 none
    #                                 (with a cap only)

    @property
    def width(self) -> int:
        """Number of seller columns of ``aware`` (every seller slot)."""
        return self.aware.shape[1]

    @property
    def k(self) -> int:
        """Memory cells per buyer: the most sellers a buyer holds in mind."""
        return self.belief.shape[1]

    def cells(self, rows: np.ndarray, sellers: np.ndarray) -> np.ndarray:
        """Flat memory indices (through ``.reshape(-1)``) of sellers the buyers ``rows`` know."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.slot is None:
            return rows * self.k + sellers
        return rows * self.k + self.slot.reshape(-1)[rows * self.width + sellers]

    def sellers_of(self, cells: np.ndarray) -> np.ndarray:
        """The seller held in each of the flat memory indices ``cells``."""
        if self.held is None:
            return np.asarray(cells) % self.k
        return self.held.reshape(-1)[cells].astype(np.int64)

    def known_of(self, rows: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
        """The sellers below ``width`` each of buyers ``rows`` knows.

        Returns (index into ``rows``, seller, flat memory index) triples sorted by buyer, then
        seller.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if self.held is None:
            i, s = np.divmod(np.flatnonzero(np.take(self.aware, rows, axis=0)[:, :width]),
                             width)  # faster than a 2-D nonzero
            return i, s, self.cells(rows[i], s)
        held = np.take(self.held, rows, axis=0)
        col = np.argsort(held, axis=1)  # empty cells (-1) first, then by seller
        held = np.take_along_axis(held, col, axis=1)
        i, j = np.nonzero((held >= 0) & (held < width))
        return i, held[i, j].astype(np.int64), rows[i] * self.k + col[i, j]

    def belief_at(self, rows: np.ndarray, sellers: np.ndarray) -> np.ndarray:
        """Beliefs of buyers ``rows`` about ``sellers``; the prior where they do not know it."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.slot is None:
            return self.belief.reshape(-1)[rows * self.k + sellers]
        out = np.full(rows.shape, self.prior)
        known = self.aware.reshape(-1)[rows * self.width + sellers]
        out[known] = self.belief.reshape(-1)[self.cells(rows[known], sellers[known])]
        return out

    def belief_rows(self, rows: np.ndarray, width: int) -> np.ndarray:
        """Beliefs of buyers ``rows`` about sellers ``0..width-1``, one row each (a copy)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.slot is None:
            return np.take(self.belief, rows, axis=0)[:, :width]
        out = np.full((rows.size, width), self.prior)
        i, s = np.nonzero(np.take(self.aware, rows, axis=0)[:, :width])
        out[i, s] = self.belief.reshape(-1)[self.cells(rows[i], s)]
        return out


@dataclass
class SellerArrays:
    """Per-seller state; shape ``(S_cap,)`` unless noted."""

    exists: np.ndarray  # bool: the slot holds a seller (initial or entered)
    alive: np.ndarray  # bool
    strategy: np.ndarray  # int16: index into spheres.model.strategies.STRATEGIES
    offering: np.ndarray  # (S, D) float64
    price: np.ndarray  # int64 cents
    cash: np.ndarray  # int64 cents
    entry_step: np.ndarray  # int32
    exit_step: np.ndarray  # int32, -1 while alive
    revenue: np.ndarray  # int64: this step's revenue
    costs: np.ndarray  # int64: this step's costs
    sales: np.ndarray  # int64: this step's purchases
    aware_count: np.ndarray  # int64: buyers aware of the seller
    knowledge_step: np.ndarray  # int32: step its reach first passed knowledge_share, -1 if not
    believed_fit: np.ndarray  # float64: the fit the seller believes it has (its claims' base)
    budget: np.ndarray  # int64: marketing money left this step (a share of cash)
    marketing: np.ndarray  # int64: this step's marketing spend
    hist_sum: np.ndarray  # (delay+1, S, D) float64: customers' expectations, by booking step
    hist_fit: np.ndarray  # (delay+1, S) float64: customers' experienced fit, by booking step
    hist_n: np.ndarray  # (delay+1, S) int64: customers counted, by booking step
    cust_sum: np.ndarray  # (S, D) float64: this step's customers' expectations
    fit_sum: np.ndarray  # (S,) float64: this step's customers' experienced fit
    talk_sum: np.ndarray  # (S, D) float64: expectations of this step's talkers whose favourite
    #                       (best-rated known seller) it is
    talk_w: np.ndarray  # (S,) float64: their beliefs about it, summed
    talk_n: np.ndarray  # (S,) int64: how many of this step's talkers it is the favourite of
    feedback_sum: np.ndarray  # (S, D) float64: expectations of customers who gave feedback
    feedback_fit: np.ndarray  # (S,) float64: their experienced fit
    feedback_n: np.ndarray  # (S,) int64: customers who gave feedback this step

    @property
    def n_opened(self) -> int:
        """Slots opened so far (initial sellers and entrants, alive or not)."""
        return int(np.count_nonzero(self.exists))


@dataclass
class Follows:
    """Directed follower edges as one sorted int64 key array ``influencer * N + follower``."""

    keys: np.ndarray
    n: int

    def ranges(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end positions in ``keys`` of the follower edges of each of ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        return (np.searchsorted(self.keys, rows * self.n),
                np.searchsorted(self.keys, (rows + 1) * self.n))

    def targets_at(self, positions: np.ndarray) -> np.ndarray:
        """The followers of the edges at ``positions`` in ``keys``."""
        return self.keys[positions] % self.n

    def followers_of(self, row: int) -> np.ndarray:
        """The followers of one agent, ascending."""
        lo, hi = self.ranges(np.array([row]))
        return self.keys[lo[0]:hi[0]] % self.n

    def add(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Add new follow edges, skipping self-follows and existing ones.

        Returns the followed agent of each edge added.
        """
        keep = src != dst
        new = np.sort(src[keep].astype(np.int64) * self.n + dst[keep])
        new = new[np.r_[True, np.diff(new) != 0]] if new.size else new
        pos = np.searchsorted(self.keys, new)
        if self.keys.size:
            exists = (pos < self.keys.size) & (self.keys[np.minimum(pos, self.keys.size - 1)]
                                               == new)
        else:
            exists = np.zeros(new.size, dtype=bool)
        new, pos = new[~exists], pos[~exists]
        self.keys = np.insert(self.keys, pos, new)
        return new // self.n


def empty_buyers(n: int, s: int, d: int, prior: float, k: int = 0) -> BuyerArrays:
    """Zeroed buyer arrays for ``n`` buyers, ``s`` seller columns and ``d`` dimensions.

    Each buyer holds up to ``k`` sellers in mind (0 or ``k >= s``: all of them), with beliefs at
    ``prior``. Arrays are filled (not lazily zeroed by the OS), so their memory is touched here,
    at set-up, rather than page by page during the first steps.
    """
    capped = 0 < k < s
    k = k if capped else s
    return BuyerArrays(
        expect=np.full((n, d), 0.0),
        taste=np.full((n, d), 0.0),
        drift_rate=np.full(n, 0.0),
        need_mean=np.full(n, 0.0),
        need=np.full(n, 0, dtype=np.int64),
        aware=np.full((n, s), 0, dtype=bool),
        belief=np.full((n, k), prior),
        trust=np.full((n, 3), 0.0),
        currency=np.full(n, 0, dtype=np.int64),
        money=np.full(n, 0, dtype=np.int64),
        money_in=np.full(n, 0, dtype=np.int64),
        wallet_spent=np.full(n, 0, dtype=np.int64),
        is_influencer=np.full(n, 0, dtype=bool),
        credibility=np.full(n, 1.0),
        sponsor_of=np.full(n, -1, dtype=np.int32),
        introducer=np.full((n, k), -1, dtype=np.int32),
        intro_kind=np.full((n, k), 0, dtype=np.int8),
        aware_time=np.full((n, k), -1, dtype=np.int32),
        claim=np.full((n, k), 0.0),
        claim_kind=np.full((n, k), 0, dtype=np.int8),
        spend_by=np.full((n, k), 0, dtype=np.int64),
        spent=np.full(n, 0, dtype=np.int64),
        purchases=np.full(n, 0, dtype=np.int64),
        caused=np.full(n, 0, dtype=np.int64),
        caused_spend=np.full(n, 0, dtype=np.int64),
        helped=np.full(n, 0, dtype=np.int64),
        talks=np.full(n, 0, dtype=np.int64),
        posts=np.full(n, 0, dtype=np.int64),
        reads=np.full(n, 0, dtype=np.int64),
        thanks=np.full(n, 0, dtype=np.int64),
        informed=np.full(n, 0, dtype=np.int64),
        n_followers=np.full(n, 0, dtype=np.int64),
        exposed=np.full(n, 0, dtype=np.int64),
        promoted_step=np.full(n, -1, dtype=np.int32),
        prior=prior,
        slot=np.full((n, s), -1, dtype=np.int8 if k <= 127 else np.int16) if capped else None,
        held=np.full((n, k), -1, dtype=np.int16) if capped else None,
    )


def empty_sellers(s: int, d: int, delay: int) -> SellerArrays:
    """Zeroed seller arrays for ``s`` slots."""
    return SellerArrays(
        exists=np.zeros(s, dtype=bool),
        alive=np.zeros(s, dtype=bool),
        strategy=np.zeros(s, dtype=np.int16),
        offering=np.zeros((s, d)),
        price=np.zeros(s, dtype=np.int64),
        cash=np.zeros(s, dtype=np.int64),
        entry_step=np.zeros(s, dtype=np.int32),
        exit_step=np.full(s, -1, dtype=np.int32),
        revenue=np.zeros(s, dtype=np.int64),
        costs=np.zeros(s, dtype=np.int64),
        sales=np.zeros(s, dtype=np.int64),
        aware_count=np.zeros(s, dtype=np.int64),
        knowledge_step=np.full(s, -1, dtype=np.int32),
        believed_fit=np.zeros(s),
        budget=np.zeros(s, dtype=np.int64),
        marketing=np.zeros(s, dtype=np.int64),
        hist_sum=np.zeros((delay + 1, s, d)),
        hist_fit=np.zeros((delay + 1, s)),
        hist_n=np.zeros((delay + 1, s), dtype=np.int64),
        cust_sum=np.zeros((s, d)),
        fit_sum=np.zeros(s),
        talk_sum=np.zeros((s, d)),
        talk_w=np.zeros(s),
        talk_n=np.zeros(s, dtype=np.int64),
        feedback_sum=np.zeros((s, d)),
        feedback_fit=np.zeros(s),
        feedback_n=np.zeros(s, dtype=np.int64),
    )
