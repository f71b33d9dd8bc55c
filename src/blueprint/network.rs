//! IPv4 CIDR ranges and the subnet plan carved from `spec.network.cidr`.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cidr {
  pub base: u32,
  pub prefix: u8,
}

impl Cidr {
  pub fn first(self) -> u32 {
    self.base
  }

  pub fn last(self) -> u32 {
    self.base | host_mask(self.prefix)
  }

  pub fn contains(self, other: Cidr) -> bool {
    other.prefix >= self.prefix && other.first() >= self.first() && other.last() <= self.last()
  }

  pub fn overlaps(self, other: Cidr) -> bool {
    self.first() <= other.last() && other.first() <= self.last()
  }

  /// Terraform's `cidrsubnet`: the `index`th subnet with `newbits` more bits.
  pub fn subnet(self, newbits: u8, index: u32) -> Option<Cidr> {
    let prefix = self.prefix.checked_add(newbits).filter(|p| *p <= 32)?;
    if newbits < 32 && u64::from(index) >= 1u64 << newbits {
      return None;
    }
    let shift = 32 - u32::from(prefix);
    let offset = if shift >= 32 { 0 } else { index << shift };
    Some(Cidr {
      base: self.base | offset,
      prefix,
    })
  }
}

fn host_mask(prefix: u8) -> u32 {
  if prefix >= 32 { 0 } else { u32::MAX >> prefix }
}

/// Why a text is not a CIDR range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CidrError {
  /// No `/` between the address and the prefix length.
  NotARange(String),
  /// The part before the `/` is not an IPv4 address.
  NotAnAddress(String),
  /// The part after the `/` is not a prefix length between 0 and 32.
  NotAPrefix(String),
  /// Bits below the prefix are set; carries the network address.
  HostBits {
    text: String,
    network: Ipv4Addr,
    prefix: u8,
  },
}

impl fmt::Display for CidrError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      CidrError::NotARange(text) => {
        write!(f, "`{text}` is not a CIDR range like `10.0.0.0/16`")
      }
      CidrError::NotAnAddress(addr) => write!(f, "`{addr}` is not an IPv4 address"),
      CidrError::NotAPrefix(prefix) => {
        write!(f, "`/{prefix}` is not a prefix length between 0 and 32")
      }
      CidrError::HostBits {
        text,
        network,
        prefix,
      } => write!(
        f,
        "`{text}` has host bits set; the network address is `{network}/{prefix}`"
      ),
    }
  }
}

impl std::error::Error for CidrError {}

impl FromStr for Cidr {
  type Err = CidrError;

  fn from_str(text: &str) -> Result<Self, Self::Err> {
    let (addr, prefix) = text
      .split_once('/')
      .ok_or_else(|| CidrError::NotARange(text.to_string()))?;
    let addr: Ipv4Addr = addr
      .parse()
      .map_err(|_| CidrError::NotAnAddress(addr.to_string()))?;
    let prefix: u8 = prefix
      .parse()
      .ok()
      .filter(|p| *p <= 32 && !prefix.starts_with('+'))
      .ok_or_else(|| CidrError::NotAPrefix(prefix.to_string()))?;
    let base = u32::from(addr);
    if base & host_mask(prefix) != 0 {
      return Err(CidrError::HostBits {
        text: text.to_string(),
        network: Ipv4Addr::from(base & !host_mask(prefix)),
        prefix,
      });
    }
    Ok(Cidr { base, prefix })
  }
}

impl fmt::Display for Cidr {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
  }
}

/// The narrowest VPC range subnets can be carved from automatically.
pub(crate) const MAX_CARVED_PREFIX: u8 = 20;
/// The most zones the carving scheme has room for.
pub(crate) const MAX_ZONES: usize = 6;

/// Public, private and database subnets, one of each per zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetPlan {
  pub public: Vec<Cidr>,
  pub private: Vec<Cidr>,
  pub database: Vec<Cidr>,
}

/// Carves subnets from the VPC range: the VPC is split in 16 blocks; private
/// subnets take one block per zone (room for nodes and pods), public and
/// database subnets take a 1/256 slice per zone from blocks 12 and 13.
pub(crate) fn carve(vpc: Cidr, zones: usize) -> Option<SubnetPlan> {
  if vpc.prefix > MAX_CARVED_PREFIX || zones > MAX_ZONES {
    return None;
  }
  let zones = u32::try_from(zones).ok()?;
  Some(SubnetPlan {
    private: (0..zones)
      .map(|i| vpc.subnet(4, i))
      .collect::<Option<_>>()?,
    public: (0..zones)
      .map(|i| vpc.subnet(8, 192 + i))
      .collect::<Option<_>>()?,
    database: (0..zones)
      .map(|i| vpc.subnet(8, 208 + i))
      .collect::<Option<_>>()?,
  })
}

/// Pairs of overlapping ranges, found in O(n log n) by sorting on the start.
pub(crate) fn overlaps<T: Copy>(ranges: &[(Cidr, T)]) -> Vec<(T, T)> {
  let mut sorted: Vec<&(Cidr, T)> = ranges.iter().collect();
  sorted.sort_by_key(|(cidr, _)| (cidr.first(), std::cmp::Reverse(cidr.last())));
  let mut found = Vec::new();
  let mut widest: Option<&(Cidr, T)> = None;
  for item in sorted {
    if let Some(open) = widest {
      if item.0.first() <= open.0.last() {
        found.push((open.1, item.1));
      }
      if item.0.last() > open.0.last() {
        widest = Some(item);
      }
    } else {
      widest = Some(item);
    }
  }
  found
}

#[cfg(test)]
mod tests {
  use super::*;

  fn cidr(text: &str) -> Cidr {
    text.parse().unwrap()
  }

  #[test]
  fn parses_and_rejects() {
    assert_eq!(cidr("10.0.0.0/16").to_string(), "10.0.0.0/16");
    assert_eq!(
      "10.0.0.1/16".parse::<Cidr>().unwrap_err().to_string(),
      "`10.0.0.1/16` has host bits set; the network address is `10.0.0.0/16`"
    );
    assert!("10.0.0.0".parse::<Cidr>().is_err());
    assert!("10.0.0.0/33".parse::<Cidr>().is_err());
    assert!("10.0.0/16".parse::<Cidr>().is_err());
  }

  #[test]
  fn carves_like_cidrsubnet() {
    let plan = carve(cidr("10.0.0.0/16"), 3).unwrap();
    let show = |v: &[Cidr]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(
      show(&plan.private),
      ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"]
    );
    assert_eq!(
      show(&plan.public),
      ["10.0.192.0/24", "10.0.193.0/24", "10.0.194.0/24"]
    );
    assert_eq!(
      show(&plan.database),
      ["10.0.208.0/24", "10.0.209.0/24", "10.0.210.0/24"]
    );
    assert!(carve(cidr("10.0.0.0/24"), 3).is_none());
  }

  #[test]
  fn finds_overlaps() {
    let ranges = [
      (cidr("10.0.0.0/24"), 0),
      (cidr("10.0.1.0/24"), 1),
      (cidr("10.0.0.0/16"), 2),
    ];
    assert_eq!(overlaps(&ranges), [(2, 0), (2, 1)]);
    assert!(overlaps(&ranges[..2]).is_empty());
  }
}
