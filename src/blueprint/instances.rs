//! The EC2 instance families and sizes, and the RDS instance classes, that
//! exist (for PostgreSQL), so a typo such as `m6ii.large` or
//! `m6i.humongous` fails validation instead of the first `terraform apply`.
//! Types newer than this table are accepted when listed in
//! `spec.aws.newInstanceTypes`.

/// EC2 instance families, current and previous generation.
const EC2_FAMILIES: &[&str] = &[
  // General purpose
  "a1",
  "m4",
  "m5",
  "m5a",
  "m5ad",
  "m5d",
  "m5dn",
  "m5n",
  "m5zn",
  "m6a",
  "m6g",
  "m6gd",
  "m6i",
  "m6id",
  "m6idn",
  "m6in",
  "m7a",
  "m7g",
  "m7gd",
  "m7i",
  "m7i-flex",
  "m8a",
  "m8g",
  "m8gd",
  "m8i",
  "m8i-flex",
  "mac1",
  "mac2",
  "mac2-m1ultra",
  "mac2-m2",
  "mac2-m2pro",
  "t1",
  "t2",
  "t3",
  "t3a",
  "t4g", // Compute optimized
  "c4",
  "c5",
  "c5a",
  "c5ad",
  "c5d",
  "c5n",
  "c6a",
  "c6g",
  "c6gd",
  "c6gn",
  "c6i",
  "c6id",
  "c6in",
  "c7a",
  "c7g",
  "c7gd",
  "c7gn",
  "c7i",
  "c7i-flex",
  "c8a",
  "c8g",
  "c8gd",
  "c8gn",
  "c8i",
  "c8i-flex", // Memory optimized
  "r4",
  "r5",
  "r5a",
  "r5ad",
  "r5b",
  "r5d",
  "r5dn",
  "r5n",
  "r6a",
  "r6g",
  "r6gd",
  "r6i",
  "r6id",
  "r6idn",
  "r6in",
  "r7a",
  "r7g",
  "r7gd",
  "r7i",
  "r7iz",
  "r8a",
  "r8g",
  "r8gd",
  "r8gn",
  "r8i",
  "r8i-flex",
  "u-3tb1",
  "u-6tb1",
  "u-9tb1",
  "u-12tb1",
  "u-18tb1",
  "u-24tb1",
  "u7i-6tb",
  "u7i-8tb",
  "u7i-12tb",
  "u7in-16tb",
  "u7in-24tb",
  "u7in-32tb",
  "x1",
  "x1e",
  "x2gd",
  "x2idn",
  "x2iedn",
  "x2iezn",
  "x8g",
  "z1d", // Accelerated computing
  "dl1",
  "dl2q",
  "f1",
  "f2",
  "g4ad",
  "g4dn",
  "g5",
  "g5g",
  "g6",
  "g6e",
  "g6f",
  "gr6",
  "gr6f",
  "inf1",
  "inf2",
  "p3",
  "p3dn",
  "p4d",
  "p4de",
  "p5",
  "p5e",
  "p5en",
  "p6-b200",
  "p6e-gb200",
  "trn1",
  "trn1n",
  "trn2",
  "vt1", // Storage optimized
  "d2",
  "d3",
  "d3en",
  "h1",
  "i3",
  "i3en",
  "i4g",
  "i4i",
  "i7i",
  "i7ie",
  "i8g",
  "im4gn",
  "is4gen",
  // High performance computing
  "hpc6a",
  "hpc6id",
  "hpc7a",
  "hpc7g",
];

/// Multiples of `xlarge` that EC2 sizes come in.
const XLARGE: &[u32] = &[
  2, 3, 4, 6, 8, 9, 10, 12, 16, 18, 24, 32, 48, 56, 96, 112, 192, 224, 448, 480,
];

/// RDS instance classes for PostgreSQL, without `db.`.
const RDS_FAMILIES: &[&str] = &[
  "c6gd", "m5", "m5d", "m6g", "m6gd", "m6i", "m6id", "m6idn", "m6in", "m7g", "m7i", "m8g", "m8gd",
  "r5", "r5b", "r5d", "r6g", "r6gd", "r6i", "r6id", "r6idn", "r6in", "r7g", "r7i", "r8g", "r8gd",
  "t3", "t4g", "x2g", "x2idn", "x2iedn", "x2iezn", "z1d",
];

/// An EC2 size: `nano` … `xlarge`, `<n>xlarge`, `metal` or `metal-<n>xl`.
fn is_size(size: &str) -> bool {
  if [
    "nano", "micro", "small", "medium", "large", "xlarge", "metal",
  ]
  .contains(&size)
  {
    return true;
  }
  let multiple = size.strip_suffix("xlarge").or_else(|| {
    size
      .strip_prefix("metal-")
      .and_then(|s| s.strip_suffix("xl"))
  });
  multiple
    .and_then(|n| n.parse::<u32>().ok())
    .is_some_and(|n| XLARGE.contains(&n))
}

/// Why oi-gen does not know an instance type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unknown {
  /// No such family; the closest known one, if any.
  Family(Option<&'static str>),
  /// The family exists, the size does not.
  Size,
}

/// Checks `<family>.<size>` against the EC2 table.
pub(crate) fn ec2(value: &str) -> Result<(), Unknown> {
  check(value, EC2_FAMILIES)
}

/// Checks `db.<family>.<size>` against the RDS table.
pub(crate) fn rds(value: &str) -> Result<(), Unknown> {
  check(value.strip_prefix("db.").unwrap_or(value), RDS_FAMILIES)
}

fn check(value: &str, families: &'static [&'static str]) -> Result<(), Unknown> {
  let (family, size) = value.split_once('.').unwrap_or((value, ""));
  if !families.contains(&family) {
    return Err(Unknown::Family(crate::diagnostic::suggest(
      family,
      families.iter().copied(),
    )));
  }
  if is_size(size) {
    Ok(())
  } else {
    Err(Unknown::Size)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn knows_real_types_and_refuses_typos() {
    for real in [
      "m7i.large",
      "c7gn.16xlarge",
      "u-6tb1.metal",
      "t4g.nano",
      "m7i.metal-24xl",
      "p6-b200.48xlarge",
    ] {
      assert_eq!(ec2(real), Ok(()), "{real}");
    }
    assert_eq!(ec2("m6ii.large"), Err(Unknown::Family(Some("m6i"))));
    assert_eq!(ec2("m6i.humongous"), Err(Unknown::Size));
    assert_eq!(ec2("m6i.7xlarge"), Err(Unknown::Size));
    assert_eq!(rds("db.t4g.medium"), Ok(()));
    assert_eq!(rds("db.r7g.2xlarge"), Ok(()));
    assert!(matches!(rds("db.c7g.large"), Err(Unknown::Family(_))));
    assert_eq!(rds("db.m7i.metal"), Ok(()));
  }
}
