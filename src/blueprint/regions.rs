//! AWS regions and the letters of their availability zones.

/// (region, zone letters). Commercial, GovCloud and China partitions.
pub(crate) const REGIONS: &[(&str, &str)] = &[
  ("af-south-1", "abc"),
  ("ap-east-1", "abc"),
  ("ap-east-2", "abc"),
  ("ap-northeast-1", "acd"),
  ("ap-northeast-2", "abcd"),
  ("ap-northeast-3", "abc"),
  ("ap-south-1", "abc"),
  ("ap-south-2", "abc"),
  ("ap-southeast-1", "abc"),
  ("ap-southeast-2", "abc"),
  ("ap-southeast-3", "abc"),
  ("ap-southeast-4", "abc"),
  ("ap-southeast-5", "abc"),
  ("ap-southeast-6", "abc"),
  ("ap-southeast-7", "abc"),
  ("ca-central-1", "abd"),
  ("ca-west-1", "abc"),
  ("cn-north-1", "abc"),
  ("cn-northwest-1", "abc"),
  ("eu-central-1", "abc"),
  ("eu-central-2", "abc"),
  ("eu-north-1", "abc"),
  ("eu-south-1", "abc"),
  ("eu-south-2", "abc"),
  ("eu-west-1", "abc"),
  ("eu-west-2", "abc"),
  ("eu-west-3", "abc"),
  ("il-central-1", "abc"),
  ("me-central-1", "abc"),
  ("me-south-1", "abc"),
  ("mx-central-1", "abc"),
  ("sa-east-1", "abc"),
  ("us-east-1", "abcdef"),
  ("us-east-2", "abc"),
  ("us-gov-east-1", "abc"),
  ("us-gov-west-1", "abc"),
  ("us-west-1", "abc"),
  ("us-west-2", "abcd"),
];

pub(crate) fn zone_letters(region: &str) -> Option<&'static str> {
  REGIONS
    .iter()
    .find(|(name, _)| *name == region)
    .map(|(_, letters)| *letters)
}

/// The region's first three zones (fewer if it has fewer).
pub(crate) fn default_zones(region: &str) -> Vec<String> {
  zone_letters(region)
    .unwrap_or("abc")
    .chars()
    .take(3)
    .map(|letter| format!("{region}{letter}"))
    .collect()
}

/// Does `zone` name an availability zone of `region`?
pub(crate) fn zone_in_region(zone: &str, region: &str) -> bool {
  let Some(letters) = zone_letters(region) else {
    return false;
  };
  zone
    .strip_prefix(region)
    .is_some_and(|letter| letter.len() == 1 && letters.contains(letter))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn zones_belong_to_their_region() {
    assert!(zone_in_region("me-central-1a", "me-central-1"));
    assert!(!zone_in_region("me-central-1d", "me-central-1"));
    assert!(!zone_in_region("us-east-1a", "me-central-1"));
    assert_eq!(
      default_zones("ap-northeast-1"),
      ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
    );
  }
}
