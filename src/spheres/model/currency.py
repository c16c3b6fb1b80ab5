"""The social-currency ledger: every unit is minted, transferred, converted or burned here.

Balances are integer points held by buyers (influencers are buyers). Each movement has a kind,
a reason (the mechanism that made it), a step, and the types of its source and destination
(``none`` for the outside of the economy). The identity
``sum(balances) == mint + convert_in - burn - convert_out`` holds exactly.
"""

from __future__ import annotations

import numpy as np

from spheres.errors import LedgerError

KINDS = ("mint", "transfer", "convert_in", "convert_out", "burn")
# How each kind is said in figures and reports.
CURRENCY_LABELS = {"mint": "minted", "transfer": "transferred", "convert_in": "converted in",
                   "convert_out": "converted out", "burn": "burned"}
AGENT_TYPES = ("none", "buyer", "influencer", "seller")
MINT, TRANSFER, CONVERT_IN, CONVERT_OUT, BURN = range(5)
NONE, BUYER, INFLUENCER, SELLER = range(4)
# Why currency moved, and the kind of movement each reason is.
REASONS = {
    "advice": MINT,  # advice that helped (phase 7)
    "thank_you": TRANSFER,  # an asker thanks a helpful contact (phase 3)
    "follower_share": TRANSFER,  # a sponsored influencer shares with a follower who bought
    "sponsorship": CONVERT_IN,  # a sponsor pays an influencer
    "cocreation": CONVERT_IN,  # a co-creating seller rewards feedback
    "perk": CONVERT_OUT,  # points spent as a discount on a purchase (phase 6)
    "cashout": CONVERT_OUT,  # points converted into money above a threshold
    "decay": BURN,  # attention fades
}
REASON_NAMES = tuple(REASONS)

_I64 = np.int64


class Ledger:
    """Moves social currency between balances and records every movement.

    ``balance`` is the buyers' balance array (modified in place); ``is_influencer`` gives each
    buyer's agent type. With ``keep_entries`` every single movement is kept as a row (for audits
    and engine comparisons); otherwise only the per-step sums by kind and types are kept.
    """

    def __init__(self, balance: np.ndarray, is_influencer: np.ndarray,
                 keep_entries: bool = False) -> None:
        """Keep the books of the balances ``balance`` (changed in place)."""
        self.balance = balance
        self.is_influencer = is_influencer
        self.keep_entries = keep_entries
        self.totals = np.zeros(len(KINDS), dtype=_I64)
        self.step = 0
        self._flows = np.zeros((len(REASONS), len(AGENT_TYPES), len(AGENT_TYPES)), dtype=_I64)
        self._kind_totals = np.zeros(len(KINDS), dtype=_I64)
        self._rows: list[tuple[int, int, int, int, int]] = []
        self._entries: list[np.ndarray] = []

    # -- movements -------------------------------------------------------------------------
    def mint(self, dst: np.ndarray, amount: np.ndarray, reason: str = "advice") -> None:
        """Create currency for buyers ``dst`` (advice that helped)."""
        code = self._reason(reason, MINT)
        dst, amount = self._prepare(dst, amount)
        np.add.at(self.balance, dst, amount)
        self._record(code, None, dst, amount, src_type=NONE)

    def transfer(self, src: np.ndarray, dst: np.ndarray, amount: np.ndarray,
                 reason: str = "thank_you") -> None:
        """Move currency from buyers ``src`` to buyers ``dst``."""
        code = self._reason(reason, TRANSFER)
        src, amount = self._prepare(src, amount)
        dst = np.asarray(dst, dtype=_I64)
        self._check_covered(src, amount)
        np.subtract.at(self.balance, src, amount)
        np.add.at(self.balance, dst, amount)
        self._record(code, src, dst, amount)

    def convert_in(self, sellers: np.ndarray, dst: np.ndarray, amount: np.ndarray,
                   reason: str = "sponsorship") -> None:
        """Credit buyers ``dst`` with currency bought by ``sellers`` with money."""
        code = self._reason(reason, CONVERT_IN)
        dst, amount = self._prepare(dst, amount)
        np.add.at(self.balance, dst, amount)
        self._record(code, np.asarray(sellers, dtype=_I64), dst, amount, src_type=SELLER)

    def convert_out(self, src: np.ndarray, amount: np.ndarray, reason: str = "cashout") -> None:
        """Remove currency from buyers ``src`` that they turned into money."""
        self._take_out(src, amount, reason, CONVERT_OUT)

    def burn(self, src: np.ndarray, amount: np.ndarray, reason: str = "decay") -> None:
        """Destroy currency of buyers ``src`` (attention fades)."""
        self._take_out(src, amount, reason, BURN)

    def _take_out(self, src: np.ndarray, amount: np.ndarray, reason: str, kind: int) -> None:
        """Take currency of buyers ``src`` out of the economy (a movement of ``kind``)."""
        code = self._reason(reason, kind)
        src, amount = self._prepare(src, amount)
        self._check_covered(src, amount)
        np.subtract.at(self.balance, src, amount)
        self._record(code, src, None, amount, dst_type=NONE)

    @staticmethod
    def _reason(reason: str, kind: int) -> int:
        if REASONS.get(reason) != kind:
            raise LedgerError(f"reason {reason!r} is not a {KINDS[kind]} "
                              f"(reasons: {', '.join(REASONS)})")
        return REASON_NAMES.index(reason)

    # -- bookkeeping -----------------------------------------------------------------------
    def close_step(self, step: int) -> None:
        """Store this step's sums by (reason, source type, destination type); start a new step."""
        for reason, src_t, dst_t in zip(*np.nonzero(self._flows), strict=True):
            self._rows.append((step, int(src_t), int(dst_t), int(reason),
                               int(self._flows[reason, src_t, dst_t])))
        self._flows[:] = 0
        self._kind_totals[:] = 0
        self.step = step + 1

    def flow_rows(self) -> list[tuple[int, str, str, str, str, int]]:
        """Rows ``(step, source_type, destination_type, kind, reason, amount)`` of closed steps."""
        return [(s, AGENT_TYPES[a], AGENT_TYPES[b], KINDS[REASONS[REASON_NAMES[r]]],
                 REASON_NAMES[r], v) for s, a, b, r, v in self._rows]

    def entries(self) -> np.ndarray:
        """Every movement as an int64 array, one row each (empty unless ``keep_entries``).

        The columns: step, kind, reason, src_type, src, dst_type, dst, amount.
        """
        if not self._entries:
            return np.zeros((0, 8), dtype=_I64)
        return np.concatenate(self._entries)

    def step_total(self, kind: int) -> int:
        """Sum of the current (open) step's movements of one kind."""
        return int(self._kind_totals[kind])

    def step_reason_total(self, reason: str) -> int:
        """Sum of the current (open) step's movements for one reason."""
        return int(self._flows[REASON_NAMES.index(reason)].sum())

    def identity_holds(self) -> bool:
        """True when balances equal mint + convert_in - burn - convert_out, exactly."""
        t = self.totals
        return int(self.balance.sum()) == int(t[MINT] + t[CONVERT_IN] - t[BURN] - t[CONVERT_OUT])

    # -- internals -------------------------------------------------------------------------
    def _prepare(self, ids: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(ids, dtype=_I64)
        amount = np.broadcast_to(np.asarray(amount, dtype=_I64), ids.shape)
        if amount.size and amount.min() < 0:
            raise LedgerError("ledger amounts must be >= 0")
        return ids, amount

    def _check_covered(self, src: np.ndarray, amount: np.ndarray) -> None:
        """Refuse, before anything changes, movements that would overdraw a balance."""
        if src.size == 0:
            return
        if src.size == 1 or bool((np.diff(src) > 0).all()):  # ascending, distinct payers
            short = (self.balance[src] < amount).any()
        else:
            rows, inv = np.unique(src, return_inverse=True)
            short = (self.balance[rows] < np.bincount(inv, weights=amount)).any()
        if short:
            raise LedgerError("a movement would leave a negative social-currency balance")

    def _types(self, ids: np.ndarray) -> np.ndarray:
        return BUYER + self.is_influencer[ids].astype(_I64)

    def _record(self, reason: int, src: np.ndarray | None, dst: np.ndarray | None,
                amount: np.ndarray, src_type: int | None = None,
                dst_type: int | None = None) -> None:
        if amount.size == 0:
            return
        n = amount.size
        if src_type == SELLER:
            s_types = np.full(n, SELLER, dtype=_I64)
        elif src is None or src_type == NONE:
            s_types = np.full(n, NONE, dtype=_I64)
        else:
            s_types = self._types(src)
        d_types = np.full(n, NONE, dtype=_I64) if dst is None else self._types(dst)
        combo = s_types * len(AGENT_TYPES) + d_types
        sums = np.zeros(len(AGENT_TYPES) ** 2, dtype=_I64)
        np.add.at(sums, combo, amount)
        kind = REASONS[REASON_NAMES[reason]]
        self._flows[reason] += sums.reshape(len(AGENT_TYPES), len(AGENT_TYPES))
        self.totals[kind] += int(amount.sum())
        self._kind_totals[kind] += int(amount.sum())
        if self.keep_entries:
            minus = np.full(n, -1, dtype=_I64)
            self._entries.append(np.column_stack([
                np.full(n, self.step, dtype=_I64), np.full(n, kind, dtype=_I64),
                np.full(n, reason, dtype=_I64), s_types,
                minus if src is None else src, d_types, minus if dst is None else dst, amount,
            ]))
