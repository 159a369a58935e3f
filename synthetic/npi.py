"""National Provider Identifiers with a valid check digit.

The rule engine and the X12 validators check NPIs the way CMS does (Luhn over the prefix ``80840``
plus the first nine digits), so a synthetic provider must carry an NPI that passes that check.
"""

from __future__ import annotations

import numpy as np

_PREFIX_SUM = 24  # Luhn contribution of "80840" when followed by nine more digits (constant).


def npi_check_digit(first_nine: np.ndarray) -> np.ndarray:
    """Check digits for an array of 9-digit NPI prefixes (int64), vectorised."""
    digits = np.stack([(first_nine // 10 ** (8 - i)) % 10 for i in range(9)], axis=1)
    # Luhn doubles every second digit from the right of the full 15-digit number (check digit excluded):
    # positions 0, 2, 4, 6, 8 of the nine digits are doubled.
    doubled = digits[:, 0::2] * 2
    total = _PREFIX_SUM + (doubled // 10 + doubled % 10).sum(axis=1) + digits[:, 1::2].sum(axis=1)
    return np.asarray((10 - total % 10) % 10, dtype=np.int64)


def make_npis(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` distinct organisation NPIs (first digit 1) as 10-character strings."""
    prefixes = rng.choice(np.arange(100_000_000, 200_000_000, dtype=np.int64), size=count, replace=False)
    full = prefixes * 10 + npi_check_digit(prefixes)
    return np.array([f"{value:010d}" for value in full.tolist()], dtype=object)


def is_valid_npi(npi: str) -> bool:
    """Reference implementation, used by the tests to check the vectorised one."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed("80840" + npi[:9])):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit = digit // 10 + digit % 10
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])
