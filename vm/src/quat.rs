//! `quat`: a rotation, as a value like `vec3` (no heap, never shared).
//!
//! A quaternion is four `f32`s, and a value has 15 bytes beside its tag. A
//! quat is a rotation, so it has length 1, and one component follows from
//! the other three: the packed form keeps the three smaller components
//! exactly, which of the four is the largest, its sign, and the difference
//! (in units in the last place) between the largest as it was and as the
//! other three give it back. So a rotation read from a `Transform` and
//! written back is the same bits, and a quaternion whose length is near 1
//! (within about 6% for the largest component) is kept exactly; one further
//! from it is normalized first.

use crate::value::{Value, Vec3};

/// A quaternion's four components, as hosts and scripts see them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quat {
    pub x: f32,
    pub y: f32,
    pub z: f32,
    pub w: f32,
}

/// A quat's fields in a `Value::Quat`: `largest` holds the index of the
/// largest component (bits 0-1), its sign (bit 2) and the top 5 bits of
/// the correction; `low` its low 16 bits; `rest` the other three
/// components in order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Packed {
    pub largest: u8,
    pub low: u16,
    pub rest: [f32; 3],
}

/// The correction is a 21-bit signed number of units in the last place.
const CORRECTION_BITS: u32 = 21;
const CORRECTION_LIMIT: i32 = 1 << (CORRECTION_BITS - 1);

impl Quat {
    pub const IDENTITY: Quat = Quat::new(0.0, 0.0, 0.0, 1.0);

    pub const fn new(x: f32, y: f32, z: f32, w: f32) -> Quat {
        Quat { x, y, z, w }
    }

    fn array(self) -> [f32; 4] {
        [self.x, self.y, self.z, self.w]
    }

    fn from_array([x, y, z, w]: [f32; 4]) -> Quat {
        Quat { x, y, z, w }
    }

    /// The rotation as a value; `None` for a quaternion that is no
    /// rotation (length 0, or not finite).
    pub fn to_value(self) -> Option<Value> {
        let packed = pack(self).or_else(|| pack(self.normalized()?))?;
        Some(Value::Quat {
            largest: packed.largest,
            low: packed.low,
            rest: packed.rest,
        })
    }

    /// This quaternion scaled to length 1, computed in `f64`; `None` for
    /// length 0 or one that is not finite.
    pub fn normalized(self) -> Option<Quat> {
        let c = self.array().map(f64::from);
        let length = c.iter().map(|v| v * v).sum::<f64>().sqrt();
        if !(length.is_finite() && length > 0.0) {
            return None;
        }
        Some(Quat::from_array(c.map(|v| (v / length) as f32)))
    }

    /// `self * other`: the rotation `other`, then `self` (as Bevy's
    /// `Quat` multiplies), normalized.
    pub fn compose(self, other: Quat) -> Option<Quat> {
        let [x1, y1, z1, w1] = self.array().map(f64::from);
        let [x2, y2, z2, w2] = other.array().map(f64::from);
        Quat::new(
            (w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2) as f32,
            (w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2) as f32,
            (w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2) as f32,
            (w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2) as f32,
        )
        .normalized()
    }

    /// `v` rotated by `self`.
    pub fn rotate(self, v: Vec3) -> Vec3 {
        let [x, y, z, w] = self.array().map(f64::from);
        let [vx, vy, vz] = [v.x, v.y, v.z].map(f64::from);
        // v + 2w (q × v) + 2 q × (q × v), with q the vector part.
        let (tx, ty, tz) = (
            2.0 * (y * vz - z * vy),
            2.0 * (z * vx - x * vz),
            2.0 * (x * vy - y * vx),
        );
        Vec3::new(
            (vx + w * tx + (y * tz - z * ty)) as f32,
            (vy + w * ty + (z * tx - x * tz)) as f32,
            (vz + w * tz + (x * ty - y * tx)) as f32,
        )
    }

    /// The opposite rotation.
    pub fn inverse(self) -> Quat {
        Quat::new(-self.x, -self.y, -self.z, self.w)
    }

    /// The rotation `t` of the way from `self` to `other` along the shorter
    /// arc (`t` is not clamped).
    pub fn slerp(self, other: Quat, t: f64) -> Option<Quat> {
        let a = self.array().map(f64::from);
        let mut b = other.array().map(f64::from);
        let mut dot: f64 = a.iter().zip(&b).map(|(p, q)| p * q).sum();
        if dot < 0.0 {
            b = b.map(|v| -v);
            dot = -dot;
        }
        let (wa, wb) = if dot > 0.9995 {
            // Nearly the same rotation: a straight line is as good.
            (1.0 - t, t)
        } else {
            let angle = dot.clamp(-1.0, 1.0).acos();
            let sin = angle.sin();
            (((1.0 - t) * angle).sin() / sin, (t * angle).sin() / sin)
        };
        let mixed: [f64; 4] = std::array::from_fn(|i| a[i] * wa + b[i] * wb);
        Quat::from_array(mixed.map(|v| v as f32)).normalized()
    }

    /// The rotation by `angle` radians about `axis`; `None` for a zero or
    /// infinite axis.
    pub fn from_axis_angle(axis: Vec3, angle: f64) -> Option<Quat> {
        let [x, y, z] = [axis.x, axis.y, axis.z].map(f64::from);
        let length = (x * x + y * y + z * z).sqrt();
        if !(length.is_finite() && length > 0.0 && angle.is_finite()) {
            return None;
        }
        let (sin, cos) = (angle / 2.0).sin_cos();
        let s = sin / length;
        Quat::new((x * s) as f32, (y * s) as f32, (z * s) as f32, cos as f32).normalized()
    }
}

/// The largest component of `c` given the other three: `sqrt(1 - sum of
/// their squares)`, in `f64` (correctly rounded, so the same everywhere).
fn largest_from(rest: [f32; 3]) -> f32 {
    let sum: f64 = rest.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    (1.0 - sum).max(0.0).sqrt() as f32
}

/// The packed form of `q`, if its largest component is within the
/// correction's reach of what the other three give.
fn pack(q: Quat) -> Option<Packed> {
    let c = q.array();
    if !c.iter().all(|v| v.is_finite()) {
        return None;
    }
    let index = (0..4)
        .max_by(|&i, &j| c[i].abs().total_cmp(&c[j].abs()))
        .expect("four components");
    let mut rest = [0.0; 3];
    let mut k = 0;
    for (i, &v) in c.iter().enumerate() {
        if i != index {
            rest[k] = v;
            k += 1;
        }
    }
    let largest = c[index];
    let correction = largest.abs().to_bits() as i64 - largest_from(rest).to_bits() as i64;
    let correction = i32::try_from(correction)
        .ok()
        .filter(|c| (-CORRECTION_LIMIT..CORRECTION_LIMIT).contains(c))?;
    let bits = (correction as u32) & ((1 << CORRECTION_BITS) - 1);
    let negative = largest.is_sign_negative() as u8;
    Some(Packed {
        largest: index as u8 | negative << 2 | ((bits >> 16) as u8) << 3,
        low: bits as u16,
        rest,
    })
}

/// The quaternion a packed form holds.
pub(crate) fn unpack(p: Packed) -> Quat {
    let index = (p.largest & 3) as usize;
    let bits = u32::from(p.largest >> 3) << 16 | u32::from(p.low);
    // Sign-extend the 21-bit correction.
    let correction = ((bits << (32 - CORRECTION_BITS)) as i32) >> (32 - CORRECTION_BITS);
    let magnitude = f32::from_bits(
        largest_from(p.rest)
            .to_bits()
            .wrapping_add_signed(correction),
    );
    let largest = if p.largest & 4 != 0 {
        -magnitude
    } else {
        magnitude
    };
    let mut c = [0.0; 4];
    let mut k = 0;
    for (i, slot) in c.iter_mut().enumerate() {
        if i == index {
            *slot = largest;
        } else {
            *slot = p.rest[k];
            k += 1;
        }
    }
    Quat::from_array(c)
}

impl Value {
    /// The quaternion of a `Value::Quat`.
    pub fn as_quat(self) -> Option<Quat> {
        match self {
            Value::Quat { largest, low, rest } => Some(unpack(Packed { largest, low, rest })),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(q: Quat) -> Quat {
        q.to_value().and_then(Value::as_quat).expect("a rotation")
    }

    #[test]
    fn unit_quaternions_come_back_bit_for_bit() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        for _ in 0..100_000 {
            let q = Quat::new(next() as f32, next() as f32, next() as f32, next() as f32)
                .normalized()
                .unwrap();
            assert_eq!(round_trip(q), q);
            let negated = Quat::new(-q.x, -q.y, -q.z, -q.w);
            assert_eq!(round_trip(negated), negated);
        }
        for q in [
            Quat::IDENTITY,
            Quat::new(1.0, 0.0, 0.0, 0.0),
            Quat::new(0.0, -1.0, 0.0, 0.0),
            Quat::new(0.5, 0.5, 0.5, 0.5),
            Quat::new(0.0, 0.0, 0.70710677, 0.70710677),
            Quat::new(-0.0, 0.0, -0.0, 1.0),
        ] {
            assert_eq!(round_trip(q), q);
        }
    }

    #[test]
    fn the_identity_constant_is_the_identity() {
        let (_, identity) = crate::builtins::CONSTANTS
            .iter()
            .find(|(name, _)| *name == "IDENTITY")
            .expect("defined");
        assert_eq!(Some(*identity), Quat::IDENTITY.to_value());
        assert_eq!(identity.as_quat(), Some(Quat::IDENTITY));
    }

    #[test]
    fn a_quaternion_far_from_unit_length_is_normalized_and_none_is_refused() {
        let q = round_trip(Quat::new(0.0, 0.0, 0.0, 2.0));
        assert_eq!(q, Quat::IDENTITY);
        let q = round_trip(Quat::new(3.0, 0.0, 4.0, 0.0));
        assert_eq!(q, Quat::new(0.6, 0.0, 0.8, 0.0));
        assert_eq!(Quat::new(0.0, 0.0, 0.0, 0.0).to_value(), None);
        assert_eq!(Quat::new(f32::NAN, 0.0, 0.0, 1.0).to_value(), None);
        assert_eq!(Quat::new(f32::INFINITY, 0.0, 0.0, 1.0).to_value(), None);
    }

    #[test]
    fn rotations_compose_and_turn_vectors_as_glam_does() {
        let quarter =
            Quat::from_axis_angle(Vec3::new(0.0, 1.0, 0.0), std::f64::consts::FRAC_PI_2).unwrap();
        let v = quarter.rotate(Vec3::new(1.0, 0.0, 0.0));
        assert!(
            (v.x - 0.0).abs() < 1e-6 && (v.z + 1.0).abs() < 1e-6,
            "{v:?}"
        );
        let half = quarter.compose(quarter).unwrap();
        let v = half.rotate(Vec3::new(1.0, 0.0, 0.0));
        assert!((v.x + 1.0).abs() < 1e-6, "{v:?}");
        let back = half.compose(quarter.inverse()).unwrap();
        assert!((back.y - quarter.y).abs() < 1e-6 && (back.w - quarter.w).abs() < 1e-6);
        let mid = Quat::IDENTITY.slerp(half, 0.5).unwrap();
        assert!((mid.y - quarter.y).abs() < 1e-6 && (mid.w - quarter.w).abs() < 1e-6);
    }
}
