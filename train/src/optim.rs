//! AdamW over host-side parameters, global-norm gradient clipping and the warmup + cosine
//! learning-rate schedule of WAVE's recipe (warmup_ratio 0.03, cosine decay to zero).

use std::collections::BTreeMap;

use wave_engine::weights::HostTensor;

/// Moment estimates of one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    pub m: Vec<f32>,
    pub v: Vec<f32>,
}

#[derive(Debug, Clone)]
pub struct AdamW {
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// Updates applied so far (for bias correction).
    pub step: u64,
    pub state: BTreeMap<String, Moments>,
}

impl AdamW {
    pub fn new(weight_decay: f32) -> Self {
        AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            step: 0,
            state: BTreeMap::new(),
        }
    }

    /// Applies one update with learning rate `lr` to every parameter that has a gradient.
    pub fn update(
        &mut self,
        params: &mut BTreeMap<String, HostTensor>,
        grads: &BTreeMap<String, Vec<f32>>,
        lr: f32,
    ) {
        self.update_with(params, grads, |_| lr);
    }

    /// [`Self::update`] with each parameter's learning rate given by `lr_of(name)`.
    pub fn update_with(
        &mut self,
        params: &mut BTreeMap<String, HostTensor>,
        grads: &BTreeMap<String, Vec<f32>>,
        lr_of: impl Fn(&str) -> f32,
    ) {
        self.step += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = 1.0 - b1.powi(self.step as i32);
        let c2 = 1.0 - b2.powi(self.step as i32);
        for (name, grad) in grads {
            let Some(param) = params.get_mut(name).map(|p| &mut p.values) else {
                continue;
            };
            let lr = lr_of(name);
            let state = self.state.entry(name.clone()).or_insert_with(|| Moments {
                m: vec![0.0; grad.len()],
                v: vec![0.0; grad.len()],
            });
            for i in 0..grad.len() {
                let g = grad[i];
                state.m[i] = b1 * state.m[i] + (1.0 - b1) * g;
                state.v[i] = b2 * state.v[i] + (1.0 - b2) * g * g;
                let m_hat = state.m[i] / c1;
                let v_hat = state.v[i] / c2;
                param[i] -= lr * (m_hat / (v_hat.sqrt() + self.eps) + self.weight_decay * param[i]);
            }
        }
    }
}

/// Scales `grads` so their global L2 norm is at most `max_norm`; returns the norm before.
pub fn clip_grad_norm(grads: &mut BTreeMap<String, Vec<f32>>, max_norm: f32) -> f32 {
    let norm = grads
        .values()
        .flat_map(|g| g.iter())
        .map(|&x| (x as f64) * (x as f64))
        .sum::<f64>()
        .sqrt() as f32;
    if norm > max_norm && norm > 0.0 {
        let scale = max_norm / norm;
        for g in grads.values_mut() {
            g.iter_mut().for_each(|x| *x *= scale);
        }
    }
    norm
}

/// Linear warmup over `warmup` steps, then cosine decay to zero at `total`.
pub fn learning_rate(step: usize, total: usize, warmup: usize, peak: f32) -> f32 {
    if step < warmup {
        return peak * (step + 1) as f32 / warmup as f32;
    }
    let span = (total - warmup).max(1) as f32;
    let progress = ((step - warmup) as f32 / span).min(1.0);
    0.5 * peak * (1.0 + (std::f32::consts::PI * progress).cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_bounds_the_global_norm() {
        let mut grads = BTreeMap::from([("a".into(), vec![3.0, 0.0]), ("b".into(), vec![4.0])]);
        let before = clip_grad_norm(&mut grads, 1.0);
        assert!((before - 5.0).abs() < 1e-6);
        let after: f32 = grads.values().flatten().map(|x| x * x).sum::<f32>().sqrt();
        assert!((after - 1.0).abs() < 1e-5);
    }

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        assert!(learning_rate(0, 100, 10, 1.0) < learning_rate(9, 100, 10, 1.0));
        assert!((learning_rate(10, 100, 10, 1.0) - 1.0).abs() < 1e-6);
        assert!(learning_rate(99, 100, 10, 1.0) < 0.01);
    }

    #[test]
    fn adamw_moves_against_the_gradient() {
        let w = HostTensor {
            values: vec![1.0f32, -1.0],
            shape: vec![2],
        };
        let mut params = BTreeMap::from([("w".to_string(), w)]);
        let grads = BTreeMap::from([("w".to_string(), vec![0.5f32, -0.5])]);
        let mut opt = AdamW::new(0.0);
        opt.update(&mut params, &grads, 0.1);
        assert!((params["w"].values[0] - 0.9).abs() < 1e-4);
        assert!((params["w"].values[1] + 0.9).abs() < 1e-4);
    }

    #[test]
    fn each_parameter_can_have_its_own_rate() {
        let one = || HostTensor {
            values: vec![1.0f32],
            shape: vec![1],
        };
        let mut params = BTreeMap::from([("fast".to_string(), one()), ("slow".to_string(), one())]);
        let grads = BTreeMap::from([
            ("fast".to_string(), vec![0.5]),
            ("slow".to_string(), vec![0.5]),
        ]);
        let mut opt = AdamW::new(0.0);
        opt.update_with(
            &mut params,
            &grads,
            |n| if n == "slow" { 0.01 } else { 0.1 },
        );
        assert!((params["fast"].values[0] - 0.9).abs() < 1e-4);
        assert!((params["slow"].values[0] - 0.99).abs() < 1e-5);
    }
}
