//! Differential-privacy noise for what jobs release (a study's sums and cohort, a campaign's
//! counts): OpenDP's discrete Laplace mechanism, with OpenDP's privacy map checked for every
//! release, so that the scale is never only computed by hand.
//!
//! Every release draws its noise once, when it is computed, and the job stores it: reading the
//! release again returns the same numbers, so averaging re-reads removes nothing.
//!
//! May touch: nothing (pure computation).

use sha2::{Digest, Sha256};

/// The noise could not be drawn, or would not be ε-DP.
#[derive(Debug, thiserror::Error)]
#[error("the noise could not be drawn: {0}")]
pub struct NoiseError(pub String);

/// Where a release's noise comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Noise {
    /// OpenDP's own sampler, from the system's entropy: what every command and endpoint uses.
    #[default]
    OpenDp,
    /// A reproducible stream derived from this seed and the release's label (the job and what
    /// is drawn), with the same distribution (a difference of two geometric variables). A
    /// host-internal seam for tests that compare two stores, or measure the mechanism; no
    /// command, endpoint or stored setting constructs it.
    #[doc(hidden)]
    Seeded(u64),
}

/// Adds discrete Laplace noise of scale `sensitivity / epsilon` to each value; checks with
/// OpenDP's privacy map that the mechanism is `epsilon`-DP for that L1 sensitivity. `label`
/// names the draw (`"job 3 sums"`), which only a seeded source uses. Returns the noisy values
/// and the scale.
pub fn noisy(
    values: &[i64],
    sensitivity: i64,
    epsilon: f64,
    noise: Noise,
    label: &str,
) -> Result<(Vec<i64>, f64), NoiseError> {
    use opendp::domains::{AtomDomain, VectorDomain};
    use opendp::measurements::make_laplace;
    use opendp::measures::MaxDivergence;
    use opendp::metrics::L1Distance;
    let err = |e: opendp::error::Error| NoiseError(e.to_string());
    if !(epsilon > 0.0 && epsilon.is_finite()) || sensitivity < 0 {
        return Err(NoiseError(format!(
            "ε must be positive and the sensitivity not negative; got ε = {epsilon}, sensitivity {sensitivity}"
        )));
    }
    let scale = sensitivity as f64 / epsilon;
    let m = make_laplace::<_, _, MaxDivergence>(
        VectorDomain::new(AtomDomain::<i64>::default()),
        L1Distance::<i64>::default(),
        scale,
        None,
    )
    .map_err(err)?;
    let spent = m.map(&sensitivity).map_err(err)?;
    if spent > epsilon * (1.0 + 1e-9) {
        return Err(NoiseError(format!(
            "the mechanism spends ε = {spent}, over the {epsilon} allowed"
        )));
    }
    let out = match noise {
        Noise::OpenDp => m.invoke(&values.to_vec()).map_err(err)?,
        Noise::Seeded(seed) => {
            let mut s = Stream::new(seed, label);
            values
                .iter()
                .map(|v| v.saturating_add(s.discrete_laplace(scale)))
                .collect()
        }
    };
    Ok((out, scale))
}

/// A reproducible stream of uniform numbers: SHA-256 of (seed, label, counter).
struct Stream {
    seed: u64,
    label: String,
    counter: u64,
}

impl Stream {
    fn new(seed: u64, label: &str) -> Self {
        Stream {
            seed,
            label: label.to_string(),
            counter: 0,
        }
    }

    /// Uniform in (0, 1), 53 bits.
    fn uniform(&mut self) -> f64 {
        let mut h = Sha256::new();
        h.update(self.seed.to_le_bytes());
        h.update(self.label.as_bytes());
        h.update(self.counter.to_le_bytes());
        self.counter += 1;
        let d = h.finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        ((u64::from_le_bytes(b) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// P(x) ∝ exp(−|x| / scale): the difference of two geometric variables, each the floor of
    /// an exponential of mean `scale` (P(G ≥ k) = e^(−k/scale)).
    fn discrete_laplace(&mut self, scale: f64) -> i64 {
        let mut geometric = || (-self.uniform().ln() * scale).floor() as i64;
        geometric() - geometric()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seeded_stream_is_reproducible_and_depends_on_its_label() {
        let a = noisy(&[100, 200], 2, 0.5, Noise::Seeded(7), "job 1 counts").unwrap();
        let b = noisy(&[100, 200], 2, 0.5, Noise::Seeded(7), "job 1 counts").unwrap();
        let c = noisy(&[100, 200], 2, 0.5, Noise::Seeded(7), "job 2 counts").unwrap();
        assert_eq!(a, b);
        assert_ne!(a.0, c.0);
        assert_eq!(a.1, 4.0);
    }

    #[test]
    fn a_seeded_stream_has_the_discrete_laplace_spread() {
        // Var = 2 q / (1 − q)² with q = e^(−1/scale); for scale 4, about 31.5.
        let scale = 4.0f64;
        let q = (-1.0 / scale).exp();
        let var = 2.0 * q / (1.0 - q).powi(2);
        let mut s = Stream::new(1, "spread");
        let n = 50_000;
        let draws: Vec<f64> = (0..n).map(|_| s.discrete_laplace(scale) as f64).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let v = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.2, "mean {mean}");
        assert!((v / var - 1.0).abs() < 0.05, "variance {v}, expected {var}");
    }

    #[test]
    fn a_bad_epsilon_is_refused() {
        assert!(noisy(&[1], 1, 0.0, Noise::OpenDp, "x").is_err());
        assert!(noisy(&[1], 1, f64::NAN, Noise::OpenDp, "x").is_err());
    }
}
