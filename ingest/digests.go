package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/sentinel-audit/sentinel/awsclient"
	"github.com/sentinel-audit/sentinel/integrity"
	"github.com/sentinel-audit/sentinel/warehouse"
)

// Signature statuses of a digest file (warehouse.DigestRow.SignatureStatus).
const (
	signatureValid      = "valid"
	signatureBad        = "bad"
	signatureUnknownKey = "unknown_key"
	signatureNotChecked = "not_checked"
	// signatureMissing: a digest in S3 without signature metadata, which CloudTrail always writes.
	signatureMissing = "missing"
)

// withMetadata is an object body that carries the object's S3 user metadata (x-amz-meta-*, keys
// in lower case without the prefix); local files have none.
type withMetadata struct {
	io.ReadCloser
	meta map[string]string
}

// readDigest reads a digest file: its inflated bytes, their hash, its content and, from S3, its
// signature, checked against CloudTrail's public keys when there are any. Its stream (account,
// region, trail) comes from its key; a local file outside the AWSLogs/ layout is named by the key
// its content says CloudTrail delivered it to.
func (r *reader) readDigest(ctx context.Context, oc *outcome, keys []integrity.PublicKey) {
	o := oc.obj
	key := integrity.TrailKey(o.source)
	k, keyErr := integrity.ParseDigestKey(key)
	stored, meta, err := r.readStored(ctx, o)
	if err != nil {
		oc.err = err
		return
	}
	inflated := stored
	if isGzip(stored) {
		r.text, _, err = inflate(r.text[:0], stored, maxObjectBytes)
		inflated = r.text
	} else {
		err = errors.New("not gzip: CloudTrail delivers digest files gzip'd")
	}
	obj := objectOf(o.source, key)
	var f integrity.DigestFile
	if err != nil {
		f = integrity.DigestFile{Object: obj, Problem: err}
	} else {
		f = integrity.ReadDigestFile(obj, inflated, meta["signature"], meta["signature-algorithm"])
	}
	if keyErr != nil {
		if f.Digest == nil {
			oc.err = fmt.Errorf("not a CloudTrail digest file: %w", keyErr)
			return
		}
		if k, keyErr = integrity.ParseDigestKey(f.Digest.S3Object); keyErr != nil {
			oc.err = fmt.Errorf("not a CloudTrail digest file: %w", keyErr)
			return
		}
		key = f.Digest.S3Object
	}
	row := warehouse.DigestRow{Source: o.source, Account: k.Account, Region: k.Region, Trail: k.Trail, HomeRegion: k.HomeRegion, End: k.End}
	if f.Problem == nil || !f.Hash.IsZero() {
		row.SHA256, row.Signature, row.SignatureAlgorithm = f.Hash.String(), f.Signature, f.SignatureAlgorithm
	}
	if f.Digest != nil {
		d := f.Digest
		row.Body, row.Start, row.End = string(inflated), d.StartTime, d.EndTime
		if !strings.HasPrefix(o.source, "s3://") {
			// A local copy keeps no bucket: it is where the digest says CloudTrail delivered it,
			// under the key prefix it names.
			obj = integrity.Object{Bucket: d.S3Bucket, Key: integrity.KeyPrefix(d.S3Object) + integrity.TrailKey(key)}
		}
	} else {
		row.Problem = f.Problem.Error()
	}
	row.Bucket, row.Key = obj.Bucket, obj.Key
	row.SignatureStatus = signatureStatus(f, keys, strings.HasPrefix(o.source, "s3://"), signedWhen(f, k.Backfill, meta))
	oc.digest = &row
}

// objectOf is where an S3 object is (its bucket and key); for a local file, its path from the
// AWSLogs/ folder (the bucket and prefix are the digest's to say).
func objectOf(source, key string) integrity.Object {
	if rest, ok := strings.CutPrefix(source, "s3://"); ok {
		bucket, k, _ := strings.Cut(rest, "/")
		return integrity.Object{Bucket: bucket, Key: k}
	}
	return integrity.Object{Key: key}
}

// signedWhen is when CloudTrail signed a readable digest: at its end; a backfill digest when
// CloudTrail made it (its S3 metadata backfill-generation-timestamp), or at some time after its
// end when that is not known.
func signedWhen(f integrity.DigestFile, backfill bool, meta map[string]string) integrity.Span {
	if f.Digest == nil {
		return integrity.Span{}
	}
	end := f.Digest.EndTime
	if !backfill {
		return integrity.Span{From: end, To: end}
	}
	if t, err := time.Parse(time.RFC3339, meta["backfill-generation-timestamp"]); err == nil {
		return integrity.Span{From: t, To: t}
	}
	return integrity.Span{From: end}
}

// signatureStatus checks a readable digest's signature, signed in signed, when it has one and
// there are keys. A digest read from S3 without one is missing it: only a local copy has no
// metadata.
func signatureStatus(f integrity.DigestFile, keys []integrity.PublicKey, fromS3 bool, signed integrity.Span) string {
	switch {
	case f.Digest != nil && f.Signature == "" && fromS3:
		return signatureMissing
	case f.Digest == nil || f.Signature == "" || len(keys) == 0:
		return signatureNotChecked
	}
	err := integrity.VerifyDigestSigned(keys, f.Digest, signed, f.Hash, f.Signature, f.SignatureAlgorithm)
	switch {
	case err == nil:
		return signatureValid
	case errors.Is(err, integrity.ErrNoKey):
		return signatureUnknownKey
	}
	return signatureBad
}

// keyLister is what fetching CloudTrail's public keys needs; the SDK client satisfies it.
type keyLister interface {
	ListPublicKeys(context.Context, *cloudtrail.ListPublicKeysInput, ...func(*cloudtrail.Options)) (*cloudtrail.ListPublicKeysOutput, error)
}

// publicKeys lists CloudTrail's public keys of a region valid in [from, to] (ListPublicKeys pages).
func publicKeys(ctx context.Context, client keyLister, region string, from, to time.Time) ([]warehouse.PublicKey, error) {
	in := &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(from), EndTime: aws.Time(to)}
	var out []warehouse.PublicKey
	for {
		page, err := client.ListPublicKeys(ctx, in)
		if err != nil {
			return nil, awsclient.Describe(fmt.Sprintf("list CloudTrail's public keys in %s (ListPublicKeys), to check digest signatures", region), err)
		}
		for _, k := range page.PublicKeyList {
			out = append(out, warehouse.PublicKey{Fingerprint: aws.ToString(k.Fingerprint), Value: k.Value,
				ValidFrom: aws.ToTime(k.ValidityStartTime), ValidUntil: aws.ToTime(k.ValidityEndTime), Region: region})
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// integrityKeys are keys in the form integrity checks signatures with.
func integrityKeys(keys []warehouse.PublicKey) []integrity.PublicKey {
	out := make([]integrity.PublicKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, integrity.PublicKey{Fingerprint: k.Fingerprint, Value: k.Value, ValidityStart: k.ValidFrom, ValidityEnd: k.ValidUntil})
	}
	return out
}
