//! Deterministic pseudo-randomness: SplitMix64 and keyed hashing, so that every generated value is a
//! pure function of (seed, what, index). No state has to be kept to regenerate a row.

/// One SplitMix64 step.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a list of numbers (order matters).
pub(crate) fn h(parts: &[u64]) -> u64 {
    let mut acc = 0x5151_2025_0000_0001u64;
    for p in parts {
        acc = mix(acc ^ mix(*p));
    }
    acc
}

/// Hash of a string, for mixing names into seeds.
pub(crate) fn hs(s: &str) -> u64 {
    // FNV-1a then mixed.
    let mut acc: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        acc ^= u64::from(*b);
        acc = acc.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix(acc)
}

/// Uniform in `0..n` (n > 0).
pub(crate) fn below(x: u64, n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        ((u128::from(x) * u128::from(n)) >> 64) as u64
    }
}

/// True with probability `permille`/1000.
pub(crate) fn chance(x: u64, permille: u64) -> bool {
    below(x, 1000) < permille
}

/// A GUID derived from a hash (version-4 layout bits set so it looks like a real one).
pub(crate) fn guid(x: u64, y: u64) -> uuid::Uuid {
    let hi = h(&[x, y]);
    let lo = h(&[y, x, 0xA5A5_A5A5_5A5A_5A5A]);
    let mut v = (u128::from(hi) << 64) | u128::from(lo);
    v &= !(0xF000u128 << 64);
    v |= 0x4000u128 << 64;
    v &= !(0xC000_0000_0000_0000u128);
    v |= 0x8000_0000_0000_0000u128;
    uuid::Uuid::from_u128(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn deterministic_and_spread() {
        assert_eq!(h(&[1, 2, 3]), h(&[1, 2, 3]));
        assert_ne!(h(&[1, 2, 3]), h(&[3, 2, 1]));
        let mut counts = [0u32; 10];
        for i in 0..10_000 {
            counts[below(h(&[i]), 10) as usize] += 1;
        }
        assert!(counts.iter().all(|c| *c > 800 && *c < 1200), "{counts:?}");
        assert_eq!(guid(1, 2).get_version_num(), 4);
        // Both halves depend on both inputs.
        assert_ne!(guid(1, 2).as_u128() >> 64, guid(1, 3).as_u128() >> 64);
        assert_ne!(guid(1, 2).as_u128() as u64, guid(2, 2).as_u128() as u64);
    }
}
