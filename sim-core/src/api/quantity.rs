//! Resource quantities (`250m`, `128Mi`, `1e3`): parsing and exact comparison.
//!
//! Port of the parsing half of apimachinery `pkg/api/resource/quantity.go`
//! (`ParseQuantity`, `parseQuantityString`) and `suffix.go`. The value is kept exactly as
//! `mantissa × 10^exp10 × 2^exp2`, so `0.1` and `100m` compare equal and nothing is rounded
//! until [`Quantity::milli_value`] or [`Quantity::value`] asks for an integer.
//! `Display` is Go's canonical form (`Quantity.String()`, `CanonicalizeBytes`): `0.5` prints as
//! `500m`, `2048Mi` as `2Gi`, `1e3` as `1e3`. Go's rounding of sub-nano values on parse and
//! `SetDefaults_ResourceList`'s rounding to milli precision are not ported.

use std::cmp::Ordering;

/// The regular expression quoted by the API server when a quantity does not parse.
pub const QUANTITY_REGEX: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// Why a quantity string is not a quantity; the messages are apimachinery's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text does not have the shape `<number><suffix>` (Go's `ErrFormatWrong`).
    #[error("quantities must match the regular expression '{QUANTITY_REGEX}'")]
    FormatWrong,
    /// The suffix is not one of the known ones (Go's `ErrSuffix`).
    #[error("unable to parse quantity's suffix")]
    Suffix,
    /// The number is too long to hold exactly (Go's `ErrNumeric`; Go has arbitrary precision,
    /// we stop at 36 significant digits).
    #[error("unable to parse numeric part of quantity")]
    Numeric,
}

/// An exact resource quantity.
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    /// Signed digits of the number, without the decimal point.
    mantissa: i128,
    /// Power of ten applied to the mantissa (decimal SI suffix, exponent, and the fraction).
    exp10: i32,
    /// Power of two applied to the mantissa (binary SI suffix).
    exp2: u32,
    /// How Go would print it back, chosen by the suffix it was written with.
    format: Format,
}

/// `resource.Format`: the family of suffix a quantity was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// `e3`, `E-2`.
    DecimalExponent,
    /// `Ki` … `Ei`.
    BinarySI,
    /// `n u m "" k M G T P E`.
    DecimalSI,
}

/// Parses a quantity in the full Kubernetes syntax: an optionally signed decimal number followed
/// by a decimal SI suffix (`n u m "" k M G T P E`), a binary SI suffix (`Ki … Ei`) or a decimal
/// exponent (`e3`, `E-2`).
pub fn parse_quantity(q: &str) -> Result<Quantity, QuantityError> {
    if q.is_empty() {
        return Err(QuantityError::FormatWrong);
    }
    let (positive, num, denom, suffix) = split_quantity(q)?;
    let (exp10, exp2) = interpret_suffix(suffix)?;
    let format = if suffix.starts_with(['e', 'E']) {
        Format::DecimalExponent
    } else if exp2 > 0 {
        Format::BinarySI
    } else {
        Format::DecimalSI
    };
    let digits = format!("{num}{denom}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 36 {
        return Err(QuantityError::Numeric);
    }
    let mut mantissa: i128 = 0;
    for b in digits.bytes() {
        mantissa = mantissa * 10 + i128::from(b - b'0');
    }
    if !positive {
        mantissa = -mantissa;
    }
    let frac = i32::try_from(denom.len()).map_err(|_| QuantityError::Numeric)?;
    Ok(Quantity {
        mantissa,
        exp10: exp10 - frac,
        exp2,
        format,
    })
}

/// Millicores of a CPU quantity (`250m` → 250, `1` → 1000).
pub fn cpu_millis(
    q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity,
) -> Result<i64, QuantityError> {
    Ok(parse_quantity(q.0.trim())?.milli_value())
}

/// Bytes of a memory quantity (`128Mi` → 134217728).
pub fn memory_bytes(
    q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity,
) -> Result<i64, QuantityError> {
    Ok(parse_quantity(q.0.trim())?.value())
}

impl Quantity {
    /// The value in thousandths, rounded up (Go's `MilliValue`), saturating at the i64 range.
    pub fn milli_value(&self) -> i64 {
        self.scaled_ceil(3)
    }

    /// The value rounded up to an integer (Go's `Value`), saturating at the i64 range.
    pub fn value(&self) -> i64 {
        self.scaled_ceil(0)
    }

    /// Whether the quantity is below zero.
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// Whether the quantity is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// A whole number in the decimal SI family (`resource.NewQuantity(n, DecimalSI)`).
    pub fn from_int(n: i64) -> Quantity {
        int(i128::from(n))
    }

    /// `self + other` exactly (Go's `Quantity.Add`): the sum keeps this quantity's suffix
    /// family, or takes the other's when this one is zero. `None` when it overflows.
    pub fn checked_add(&self, other: &Quantity) -> Option<Quantity> {
        let (a, b) = (self.exact()?, other.exact()?);
        let exp10 = a.1.min(b.1);
        let scale = |(m, e): (i128, i32)| {
            10i128
                .checked_pow((e - exp10).unsigned_abs())
                .and_then(|p| m.checked_mul(p))
        };
        let mantissa = scale(a)?.checked_add(scale(b)?)?;
        let format = if self.is_zero() {
            other.format
        } else {
            self.format
        };
        Some(Quantity {
            mantissa,
            exp10,
            exp2: 0,
            format,
        })
    }

    /// `self - other` (Go's `Quantity.Sub`), `None` when it overflows.
    pub fn checked_sub(&self, other: &Quantity) -> Option<Quantity> {
        let neg = Quantity {
            mantissa: other.mantissa.checked_neg()?,
            ..*other
        };
        let mut r = self.checked_add(&neg)?;
        r.format = self.format;
        Some(r)
    }

    /// The same value in the decimal SI family (describe's `NewQuantity(v.Value(), format)`
    /// keeps the value and takes the other quantity's format).
    pub fn with_format_of(&self, other: &Quantity) -> Quantity {
        Quantity {
            format: other.format,
            ..*self
        }
    }

    /// Whether two quantities print in the same suffix family.
    pub fn same_format(&self, other: &Quantity) -> bool {
        self.format == other.format
    }

    /// The value as `(mantissa, exp10)` with the power of two multiplied in.
    fn exact(&self) -> Option<(i128, i32)> {
        let m = 2i128
            .checked_pow(self.exp2)
            .and_then(|p| self.mantissa.checked_mul(p))?;
        Some((m, self.exp10))
    }

    /// `ceil(self × 10^scale)` as i64, saturating.
    fn scaled_ceil(&self, scale: i32) -> i64 {
        let saturate = |neg: bool| if neg { i64::MIN } else { i64::MAX };
        let neg = self.mantissa < 0;
        let Some(mut n) = 2i128
            .checked_pow(self.exp2)
            .and_then(|p| self.mantissa.checked_mul(p))
        else {
            return saturate(neg);
        };
        let e = self.exp10 + scale;
        if e >= 0 {
            match 10i128
                .checked_pow(e.unsigned_abs())
                .and_then(|p| n.checked_mul(p))
            {
                Some(v) => i64::try_from(v).unwrap_or(saturate(neg)),
                None => saturate(neg),
            }
        } else {
            let Some(d) = 10i128.checked_pow(e.unsigned_abs()) else {
                // |value| < 1 after scaling: ceil is 1 for a positive value, 0 otherwise.
                return i64::from(n > 0);
            };
            let q = n.div_euclid(d);
            n = n.rem_euclid(d);
            let v = if n > 0 { q + 1 } else { q };
            i64::try_from(v).unwrap_or(saturate(neg))
        }
    }

    /// Numerator and power-of-ten denominator of the exact value, when they fit in i128.
    fn as_fraction(&self) -> Option<(i128, i128)> {
        let n = self.mantissa.checked_mul(2i128.checked_pow(self.exp2)?)?;
        if self.exp10 >= 0 {
            Some((
                n.checked_mul(10i128.checked_pow(self.exp10.unsigned_abs())?)?,
                1,
            ))
        } else {
            Some((n, 10i128.checked_pow(self.exp10.unsigned_abs())?))
        }
    }

    fn approx(&self) -> f64 {
        // Precision loss is acceptable here: only used when exact arithmetic overflows.
        #[allow(clippy::cast_precision_loss)]
        let m = self.mantissa as f64;
        m * 10f64.powi(self.exp10) * 2f64.powi(i32::try_from(self.exp2).unwrap_or(i32::MAX))
    }
}

impl std::fmt::Display for Quantity {
    /// Go's canonical form (`Quantity.String()`): the largest suffix that keeps the number an
    /// integer, in the quantity's own suffix family.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.mantissa == 0 {
            return f.write_str("0");
        }
        let mut format = self.format;
        if format == Format::BinarySI {
            let small = self.cmp(&int(-1024)) == Ordering::Greater
                && self.cmp(&int(1024)) == Ordering::Less;
            match self.as_fraction() {
                Some((n, d)) if !small && n % d == 0 => {
                    // removeInt64Factors(value, 1024)
                    let (mut n, mut k) = (n / d, 0);
                    while k < 6 && n % 1024 == 0 {
                        n /= 1024;
                        k += 1;
                    }
                    let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][k];
                    return write!(f, "{n}{suffix}");
                }
                _ => format = Format::DecimalSI,
            }
        }
        // AsCanonicalBytes: strip factors of ten, then make the exponent a multiple of three.
        let Some(mut n) = 2i128
            .checked_pow(self.exp2)
            .and_then(|p| self.mantissa.checked_mul(p))
        else {
            return write!(f, "{}", self.approx());
        };
        let mut e = self.exp10;
        while n % 10 == 0 {
            n /= 10;
            e += 1;
        }
        let (factor, shift) = match e % 3 {
            1 | -2 => (10, 1),
            2 | -1 => (100, 2),
            _ => (1, 0),
        };
        let Some(scaled) = n.checked_mul(factor) else {
            return write!(f, "{}", self.approx());
        };
        n = scaled;
        e -= shift;
        let suffix = match (format, e) {
            (Format::DecimalExponent, 0) => String::new(),
            (Format::DecimalExponent, e) => format!("e{e}"),
            (_, -9) => "n".into(),
            (_, -6) => "u".into(),
            (_, -3) => "m".into(),
            (_, 0) => String::new(),
            (_, 3) => "k".into(),
            (_, 6) => "M".into(),
            (_, 9) => "G".into(),
            (_, 12) => "T".into(),
            (_, 15) => "P".into(),
            (_, 18) => "E".into(),
            (_, e) => format!("e{e}"),
        };
        write!(f, "{n}{suffix}")
    }
}

fn int(v: i128) -> Quantity {
    Quantity {
        mantissa: v,
        exp10: 0,
        exp2: 0,
        format: Format::DecimalSI,
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    /// Exact comparison (Go's `Quantity.Cmp`), falling back to floating point only for values
    /// too large to cross-multiply.
    fn cmp(&self, other: &Self) -> Ordering {
        if let (Some((a, da)), Some((b, db))) = (self.as_fraction(), other.as_fraction())
            && let (Some(l), Some(r)) = (a.checked_mul(db), b.checked_mul(da))
        {
            return l.cmp(&r);
        }
        self.approx().total_cmp(&other.approx())
    }
}

/// Splits `q` into sign, integer digits, fraction digits and suffix, as `parseQuantityString`.
fn split_quantity(q: &str) -> Result<(bool, &str, &str, &str), QuantityError> {
    let b = q.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos += 1;
        }
        Some(b'+') => pos += 1,
        _ => {}
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let num = &q[num_start..pos];
    let mut denom = "";
    if pos < end && b[pos] == b'.' {
        pos += 1;
        let d_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &q[d_start..pos];
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(QuantityError::FormatWrong);
    }
    Ok((positive, num, denom, &q[suffix_start..]))
}

/// The powers of ten and two a suffix stands for (`suffix.go`).
fn interpret_suffix(suffix: &str) -> Result<(i32, u32), QuantityError> {
    Ok(match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        s if s.starts_with(['e', 'E']) => {
            let e: i32 = s[1..].parse().map_err(|_| QuantityError::Suffix)?;
            if !(-1000..=1000).contains(&e) {
                return Err(QuantityError::Numeric);
            }
            (e, 0)
        }
        _ => return Err(QuantityError::Suffix),
    })
}

#[cfg(test)]
mod tests {
    //! Cases from apimachinery `quantity_test.go` (`TestQuantityParse`, `TestQuantityParseZero`,
    //! `TestQuantityParseNonNumericPanic`, `TestMilliValue`) that apply to an exact value.
    use super::*;

    fn check(q: &str, milli: i64, value: i64) {
        let parsed = parse_quantity(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(parsed.milli_value(), milli, "milli_value of {q}");
        assert_eq!(parsed.value(), value, "value of {q}");
    }

    #[test]
    fn decimal_si() {
        check("0", 0, 0);
        check("250m", 250, 1);
        check("1", 1000, 1);
        check("1.5", 1500, 2);
        check("0.1", 100, 1);
        check("100m", 100, 1);
        check("1k", 1_000_000, 1000);
        check("1M", 1_000_000_000, 1_000_000);
        check("1G", 1_000_000_000_000, 1_000_000_000);
        check("5n", 1, 1);
        check("1u", 1, 1);
        check("+1", 1000, 1);
        check("-1", -1000, -1);
        check("1.", 1000, 1);
        check(".5", 500, 1);
        check("001", 1000, 1);
    }

    #[test]
    fn binary_si() {
        check("1Ki", 1_024_000, 1024);
        check("128Mi", 134_217_728_000, 134_217_728);
        check("1Gi", 1_073_741_824_000, 1_073_741_824);
        check("1.5Gi", 1_610_612_736_000, 1_610_612_736);
        check("0.5Ki", 512_000, 512);
    }

    #[test]
    fn exponents() {
        check("1e3", 1_000_000, 1000);
        check("1E3", 1_000_000, 1000);
        check("1e-3", 1, 1);
        check("1e+3", 1_000_000, 1000);
        check("12e0", 12_000, 12);
    }

    #[test]
    fn errors() {
        for bad in ["", "abc", "1.1.1", "1 ", "1Qi", "1e", "1Kib", "1MiB", "1m1"] {
            let err = parse_quantity(bad);
            assert!(err.is_err(), "{bad:?} should not parse");
        }
        assert_eq!(
            parse_quantity("abc").unwrap_err().to_string(),
            "quantities must match the regular expression \
             '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
        assert_eq!(
            parse_quantity("1Qi").unwrap_err(),
            QuantityError::FormatWrong
        );
        assert_eq!(parse_quantity("1ki").unwrap_err(), QuantityError::Suffix);
    }

    #[test]
    fn exact_comparison() {
        let q = |s| parse_quantity(s).expect("parses");
        assert_eq!(q("0.1"), q("100m"));
        assert_eq!(q("1Ki"), q("1024"));
        assert_eq!(q("1e3"), q("1k"));
        assert!(q("1Gi") > q("1G"));
        assert!(q("500m") < q("1"));
        assert!(q("-1") < q("0"));
    }

    /// `TestQuantityString` / `TestQuantityParse` canonical forms.
    // `TestQuantityAdd`/`TestQuantitySub`-style cases: the sum keeps the first's suffix
    // family, a zero takes the other's.
    #[test]
    fn add_and_sub_are_exact_and_keep_the_format() {
        let q = |s: &str| parse_quantity(s).unwrap_or(Quantity::from_int(-999));
        for (a, b, sum) in [
            ("10m", "10m", "20m"),
            ("10Mi", "10Mi", "20Mi"),
            ("0", "128Mi", "128Mi"),
            ("1", "500m", "1500m"),
            ("1Gi", "512Mi", "1536Mi"),
            ("128Mi", "100M", "234217728"),
            ("1e3", "1", "1001"),
        ] {
            let got = q(a).checked_add(&q(b)).map(|v| v.to_string());
            assert_eq!(got.as_deref(), Some(sum), "{a} + {b}");
        }
        assert_eq!(
            q("1")
                .checked_sub(&q("250m"))
                .map(|v| v.to_string())
                .as_deref(),
            Some("750m")
        );
        assert_eq!(Quantity::from_int(0).to_string(), "0");
    }

    #[test]
    fn canonical_form() {
        for (input, want) in [
            ("0", "0"),
            ("0.5", "500m"),
            ("500m", "500m"),
            ("1", "1"),
            ("2", "2"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("1.5k", "1500"),
            ("100m", "100m"),
            ("0.1", "100m"),
            ("1000m", "1"),
            ("1Ki", "1Ki"),
            ("1024", "1024"),
            ("2048Mi", "2Gi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Ki", "512"),
            ("1000Mi", "1000Mi"),
            ("1e3", "1e3"),
            ("1E6", "1e6"),
            ("10e3", "10e3"),
            ("-1", "-1"),
            ("-500m", "-500m"),
            ("5n", "5n"),
            ("1.5", "1500m"),
            ("128974848", "128974848"),
            ("129e6", "129e6"),
            ("129M", "129M"),
            ("123Mi", "123Mi"),
        ] {
            let q = parse_quantity(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(q.to_string(), want, "canonical form of {input}");
        }
    }

    #[test]
    fn openapi_wrappers() {
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;
        assert_eq!(cpu_millis(&Q("250m".into())), Ok(250));
        assert_eq!(cpu_millis(&Q("2".into())), Ok(2000));
        assert_eq!(memory_bytes(&Q("64Mi".into())), Ok(64 * 1024 * 1024));
        assert_eq!(memory_bytes(&Q("1.5k".into())), Ok(1500));
        assert!(memory_bytes(&Q("x".into())).is_err());
    }
}
