package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/sentinel-audit/sentinel/awsclient"
	"golang.org/x/sync/errgroup"
)

// shaped reports whether a path relative to an export's root is one an export writes:
// the manifest, a file under a table's directory or the report's. Destinations holding anything else are
// refused, so an export never replaces or deletes what it did not write.
func shaped(rel string) bool {
	first, _, _ := strings.Cut(rel, "/")
	return rel == manifestName || slices.Contains(Tables, first) || first == path.Dir(reportPath)
}

// validPath reports whether a manifest's file path stays inside the export.
func validPath(p string) bool {
	return p != "" && path.Clean(p) == p && filepath.IsLocal(filepath.FromSlash(p)) && !strings.Contains(p, `\`)
}

// location is where an export lives, for writing and for verifying.
type location interface {
	fmt.Stringer
	// preflight refuses a destination holding anything an export does not write.
	preflight(ctx context.Context) error
	// staging makes a fresh directory to write the new export into.
	staging() (string, error)
	// publish replaces the export at the location with the staged one.
	publish(ctx context.Context, staging string, m *Manifest) error
	// readManifest returns manifest.json (fs.ErrNotExist when there is none).
	readManifest(ctx context.Context) ([]byte, error)
	// list returns the relative paths of every file of the export.
	list(ctx context.Context) ([]string, error)
	// fetch returns a local path holding the file rel (a download into tmp for S3).
	fetch(ctx context.Context, rel, tmp string) (string, error)
}

func destination(to string, a *awsclient.Config) (location, error) {
	if to == "" {
		return nil, errors.New("--to is required: a directory or s3://BUCKET/PREFIX")
	}
	rest, ok := strings.CutPrefix(to, "s3://")
	if !ok {
		return &localDir{dir: filepath.Clean(to)}, nil
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return nil, fmt.Errorf("%s: no bucket (want s3://BUCKET/PREFIX)", to)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	if a == nil {
		return nil, fmt.Errorf("%s: no AWS configuration to reach S3 with", to)
	}
	return &s3Prefix{client: a.S3(), bucket: bucket, prefix: prefix}, nil
}

// localDir is an export in a local directory.
type localDir struct{ dir string }

func (l *localDir) String() string { return l.dir }

func (l *localDir) preflight(context.Context) error {
	info, err := os.Stat(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s exists and is not a directory", l.dir)
	}
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !shaped(e.Name()) || (e.Name() != manifestName && !e.IsDir()) {
			return fmt.Errorf("%s is not an export: it holds %s, which an export never writes; export to a new or empty directory, or to one an earlier `sentinel export` wrote",
				l.dir, e.Name())
		}
	}
	return nil
}

func (l *localDir) staging() (string, error) {
	parent := filepath.Dir(l.dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(l.dir)+".export-")
	if err != nil {
		return "", fmt.Errorf("staging directory: %w", err)
	}
	return dir, nil
}

// publish moves the old export aside, the new one in, then deletes the old: at every moment
// the directory holds one whole export (or, between the two renames, none).
func (l *localDir) publish(_ context.Context, staging string, _ *Manifest) error {
	if _, err := os.Lstat(l.dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(staging, l.dir); err != nil {
			return fmt.Errorf("move the export into place: %w", err)
		}
		return nil
	}
	aside, err := os.MkdirTemp(filepath.Dir(l.dir), "."+filepath.Base(l.dir)+".replaced-")
	if err != nil {
		return fmt.Errorf("move the old export aside: %w", err)
	}
	old := filepath.Join(aside, "old")
	if err := os.Rename(l.dir, old); err != nil {
		os.Remove(aside)
		return fmt.Errorf("move the old export aside: %w", err)
	}
	if err := os.Rename(staging, l.dir); err != nil {
		if rerr := os.Rename(old, l.dir); rerr != nil {
			return fmt.Errorf("move the export into place: %w; the old export is kept at %s (%v)", err, old, rerr)
		}
		os.Remove(aside)
		return fmt.Errorf("move the export into place: %w (the old export is unchanged)", err)
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("delete the old export at %s: %w", aside, err)
	}
	return nil
}

func (l *localDir) readManifest(context.Context) ([]byte, error) {
	return os.ReadFile(filepath.Join(l.dir, manifestName))
}

func (l *localDir) list(context.Context) ([]string, error) {
	var out []string
	err := filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(l.dir, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out, err
}

func (l *localDir) fetch(_ context.Context, rel, _ string) (string, error) {
	return filepath.Join(l.dir, filepath.FromSlash(rel)), nil
}

// objectStore is what an export needs of S3; *s3.Client satisfies it.
type objectStore interface {
	manager.UploadAPIClient
	s3.ListObjectsV2APIClient
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// s3Prefix is an export under an S3 prefix ("" or ending in "/").
type s3Prefix struct {
	client   objectStore
	bucket   string
	prefix   string
	existing []string // relative keys under the prefix before the export (from preflight)
}

func (s *s3Prefix) String() string {
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

func (s *s3Prefix) url(rel string) string { return "s3://" + s.bucket + "/" + s.prefix + rel }

func (s *s3Prefix) preflight(ctx context.Context) error {
	keys, err := s.list(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !shaped(k) {
			return fmt.Errorf("%s is not an export: it holds %s, which an export never writes; export to a new prefix, or to one an earlier `sentinel export` wrote",
				s, s.url(k))
		}
	}
	s.existing = keys
	return nil
}

func (s *s3Prefix) staging() (string, error) {
	dir, err := os.MkdirTemp("", "sentinel-export-")
	if err != nil {
		return "", fmt.Errorf("staging directory: %w", err)
	}
	return dir, nil
}

// publish deletes the old manifest (its files are about to be overwritten), uploads the data
// files, then the new manifest, then deletes the objects the new manifest does not list. A failed
// upload leaves no manifest, so nothing claims files that are not there.
func (s *s3Prefix) publish(ctx context.Context, staging string, m *Manifest) error {
	if slices.Contains(s.existing, manifestName) {
		if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + manifestName)}); err != nil {
			return awsclient.Describe("delete the old manifest "+s.url(manifestName), err)
		}
	}
	//lint:ignore SA1019 feature/s3/manager is the uploader the design names (multipart for large files); its successor transfermanager can replace it wholesale
	uploader := manager.NewUploader(s.client)
	upload := func(ctx context.Context, rel string) error {
		f, err := os.Open(filepath.Join(staging, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		defer f.Close()
		//lint:ignore SA1019 see NewUploader above
		_, err = uploader.Upload(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + rel), Body: f, ContentType: aws.String(contentType(rel))})
		if err != nil {
			return awsclient.Describe("upload "+s.url(rel), err)
		}
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, f := range m.Files {
		g.Go(func() error { return upload(gctx, f.Path) })
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("%w; the manifest was not written, so %s holds no complete export: re-run the export", err, s)
	}
	if err := upload(ctx, manifestName); err != nil {
		return fmt.Errorf("%w; re-run the export", err)
	}
	listed := map[string]bool{manifestName: true}
	for _, f := range m.Files {
		listed[f.Path] = true
	}
	var stale []s3types.ObjectIdentifier
	for _, k := range s.existing {
		if !listed[k] {
			stale = append(stale, s3types.ObjectIdentifier{Key: aws.String(s.prefix + k)})
		}
	}
	for batch := range slices.Chunk(stale, 1000) {
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket, Delete: &s3types.Delete{Objects: batch, Quiet: aws.Bool(true)}})
		if err != nil {
			return awsclient.Describe(fmt.Sprintf("delete %s of the previous export under %s", plural(len(batch), "file"), s), err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete s3://%s/%s of the previous export: %s: %s (and %d more)", s.bucket, aws.ToString(e.Key),
				aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors)-1)
		}
	}
	return nil
}

func contentType(rel string) string {
	switch {
	case strings.HasSuffix(rel, ".parquet"):
		return "application/vnd.apache.parquet"
	case strings.HasSuffix(rel, ".csv"):
		return "text/csv"
	case strings.HasSuffix(rel, ".gz"):
		return "application/gzip"
	case strings.HasSuffix(rel, ".json"):
		return "application/json"
	case strings.HasSuffix(rel, ".html"):
		return "text/html; charset=utf-8"
	}
	return "application/octet-stream"
}

func (s *s3Prefix) readManifest(ctx context.Context) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + manifestName)})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
			return nil, fs.ErrNotExist
		}
		return nil, awsclient.Describe("read "+s.url(manifestName), err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.url(manifestName), err)
	}
	return data, nil
}

func (s *s3Prefix) list(ctx context.Context) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsclient.Describe("list "+s.String(), err)
		}
		for _, o := range page.Contents {
			rel := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if rel == "" || strings.HasSuffix(rel, "/") {
				continue // the prefix itself or a folder marker
			}
			keys = append(keys, rel)
		}
	}
	return keys, nil
}

func (s *s3Prefix) fetch(ctx context.Context, rel, tmp string) (string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + rel)})
	if err != nil {
		return "", awsclient.Describe("download "+s.url(rel), err)
	}
	defer out.Body.Close()
	local := filepath.Join(tmp, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(local), 0o700); err != nil {
		return "", err
	}
	f, err := os.Create(local)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, out.Body); err != nil {
		f.Close()
		return "", fmt.Errorf("download %s: %w", s.url(rel), err)
	}
	return local, f.Close()
}
