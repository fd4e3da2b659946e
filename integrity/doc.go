// Package integrity checks the evidence of CloudTrail log file integrity validation (docs/domain.md,
// "Log file integrity"): it parses digest files and the S3 keys of digests and log files, builds
// and verifies digest signatures against CloudTrail's public keys, and checks a chain of digests
// and the log files they list, returning typed findings an auditor can act on.
//
// It is pure domain logic: it reads no files and calls no AWS API. Callers read digests and log
// files (from S3 or a local copy), inflate them, hash them and pass what they learnt in; log
// files are passed as hashes, so a caller that streams them never holds one in memory.
//
// The rules follow AWS's "Custom implementations of CloudTrail log file integrity validation"
// and the AWS CLI's `aws cloudtrail validate-logs`, which is the reference a finding here must
// agree with.
package integrity
