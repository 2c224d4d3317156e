"""Word shingles hashed in bulk with numpy: no Python call per word or per shingle.

    shingle_hashes(["The cat sat on the mat."], k=5) -> (array([h1, h2], dtype=uint32), array([0, 0]))

A batch of texts is joined into one UTF-8 byte array; words are runs of letters and digits
(case-folded; common Unicode punctuation splits words; each CJK character is a word); a word's
hash is a polynomial over its bytes taken from prefix sums; a shingle's hash combines k
consecutive word hashes of the same text; MurmurHash3's finalizer mixes the results.
"""
from __future__ import annotations

import numpy as np

_P = np.uint64(0x100000001B3)                    # FNV-64 prime: odd, so invertible mod 2^64
_PINV = np.uint64(pow(0x100000001B3, -1, 1 << 64))
BAND_MUL = np.uint64(0x9E3779B97F4A7C15)        # golden-ratio odd constant


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer (an avalanching bijection), element-wise, wrapping."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _word_byte_table() -> np.ndarray:
    t = np.zeros(256, bool)
    for c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
        t[c] = True
    t[0x80:] = True  # bytes of non-ASCII characters: letters unless _punct_bytes says otherwise
    return t


_WORD_BYTE = _word_byte_table()


def _punct_bytes(data: np.ndarray) -> np.ndarray:
    """Mask of the UTF-8 bytes of common non-ASCII punctuation, found without decoding: Latin-1
    punctuation U+00A0-00BF (C2 A0..BF), General Punctuation U+2000-206F (E2 80/81 xx: dashes,
    curly quotes, ellipsis), CJK punctuation U+3000-303F (E3 80 xx) and fullwidth ASCII
    punctuation (EF BC 80..8F, EF BC 9A..A0)."""
    m = np.zeros(data.size, bool)
    if data.size < 2:
        return m
    b0, b1 = data[:-1], data[1:]
    two = (b0 == 0xC2) & (b1 >= 0xA0) & (b1 <= 0xBF)
    m[:-1] |= two
    m[1:] |= two
    if data.size >= 3:
        c0, c1, c2 = data[:-2], data[1:-1], data[2:]
        three = (((c0 == 0xE2) & ((c1 == 0x80) | (c1 == 0x81))) | ((c0 == 0xE3) & (c1 == 0x80))
                 | ((c0 == 0xEF) & (c1 == 0xBC) & ((c2 <= 0x8F) | ((c2 >= 0x9A) & (c2 <= 0xA0)))))
        for d in range(3):
            m[d:data.size - 2 + d] |= three
    return m


class _Powers:
    """P^i and P^-i mod 2^64 for i < n, grown on demand (a memo, not state that changes results)."""
    pw = np.ones(1, np.uint64)
    ipw = np.ones(1, np.uint64)

    @classmethod
    def get(cls, n: int) -> tuple[np.ndarray, np.ndarray]:
        if cls.pw.size < n:
            size = 1 << max(16, (n - 1).bit_length())
            with np.errstate(over="ignore"):
                cls.pw = np.concatenate(([np.uint64(1)], np.cumprod(np.full(size - 1, _P, np.uint64))))
                cls.ipw = np.concatenate(([np.uint64(1)], np.cumprod(np.full(size - 1, _PINV, np.uint64))))
        return cls.pw[:n], cls.ipw[:n]


def _word_spans(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Byte offsets (starts, ends) of the words in UTF-8 bytes: runs of letters and digits."""
    is_word = _WORD_BYTE[data] & ~_punct_bytes(data)
    # Chinese and Japanese are written without spaces: each kana or ideograph (UTF-8 lead byte
    # E3..E9, U+3000-U+9FFF) is a word of its own.
    cjk = np.flatnonzero(is_word & (data >= 0xE3) & (data <= 0xE9))
    cut = np.zeros(data.size + 1, bool)  # cut[i]: a word boundary falls just before byte i
    cut[cjk] = True
    cut[np.minimum(cjk + 3, data.size)] = True
    starts = np.flatnonzero(is_word & (np.concatenate(([True], ~is_word[:-1])) | cut[:-1]))
    ends = np.flatnonzero(is_word & (np.concatenate((~is_word[1:], [True])) | cut[1:])) + 1
    return starts, ends


def words(text: str) -> list[str]:
    """"Hello,  World! 東京" -> ["hello", "world", "東", "京"]: the words shingling sees."""
    data = np.frombuffer(text.lower().encode("utf-8"), np.uint8)
    starts, ends = _word_spans(data)
    return [bytes(data[s:e]).decode("utf-8", "replace") for s, e in zip(starts, ends)]


def shingle_hashes(texts: list[str], k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Hash the k-word shingles of every text at once. Returns (hashes uint32, owner int64): the
    shingles of text i are hashes[owner == i]. A text with 1..k-1 words is one shingle of all
    its words; a text with no words has none.

        shingle_hashes(["a b c"], k=2) -> (array([h_ab, h_bc]), array([0, 0]))
    """
    joined = "\x00".join(t.replace("\x00", " ") for t in texts).lower()
    data = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    if data.size == 0:
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    starts, ends = _word_spans(data)
    if starts.size == 0:
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    owner = np.cumsum(data == 0)[starts]  # text index of each word
    pw, ipw = _Powers.get(data.size + 1)
    with np.errstate(over="ignore"):
        prefix = np.concatenate(([np.uint64(0)], np.cumsum((data.astype(np.uint64) + np.uint64(1)) * pw[:-1])))
        words = fmix64((prefix[ends] - prefix[starts]) * ipw[starts])  # polynomial hash of each word
        n = words.size
        sh = words * BAND_MUL
        for j in range(1, min(k, n)):  # shingle = sum_j words[i+j] * C_j, over words of the same text only
            same = owner[j:] == owner[: n - j]
            sh[: n - j] += np.where(same, words[j:] * np.uint64(2 * j + 1) * BAND_MUL, np.uint64(0))
        last = np.arange(n) + k - 1
        full = (last < n) & (owner[np.minimum(last, n - 1)] == owner)
        first = np.concatenate(([True], owner[1:] != owner[:-1]))
        keep = full | (first & ~full)  # full windows, or the one short window of a short text
        h32 = (fmix64(sh[keep]) >> np.uint64(32)).astype(np.uint32)
    return h32, owner[keep]
