package integrity_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sentinel-audit/sentinel/integrity"
)

func TestParseDigestKey(t *testing.T) {
	end := time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)
	ok := []struct {
		name, key string
		want      integrity.DigestKey
	}{
		{"organization_trail", "AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail-Digest/eu-west-1/2026/11/02/222222222222_CloudTrail-Digest_eu-west-1_org-trail_us-east-1_20261102T150000Z.json.gz",
			integrity.DigestKey{OrgID: "o-a1b2c3d4e5", Account: "222222222222", Region: "eu-west-1", Trail: "org-trail", HomeRegion: "us-east-1", End: end}},
		{"account_trail_with_prefix", "audit/cloudtrail/AWSLogs/111122223333/CloudTrail-Digest/us-gov-west-1/2026/11/02/111122223333_CloudTrail-Digest_us-gov-west-1_my_trail.v2_us-gov-west-1_20261102T150000Z.json.gz",
			integrity.DigestKey{Prefix: "audit/cloudtrail", Account: "111122223333", Region: "us-gov-west-1", Trail: "my_trail.v2", HomeRegion: "us-gov-west-1", End: end}},
		{"backfill_digest", "AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail-Digest/eu-west-1/2026/11/02/222222222222_CloudTrail-Digest_eu-west-1_org-trail_us-east-1_20261102T150000Z_backfill.json.gz",
			integrity.DigestKey{OrgID: "o-a1b2c3d4e5", Account: "222222222222", Region: "eu-west-1", Trail: "org-trail", HomeRegion: "us-east-1", End: end, Backfill: true}},
		{"trail_name_with_underscores_before_the_home_region", "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/11/02/111122223333_CloudTrail-Digest_us-east-2_a_b_c_us-east-1_20261102T150000Z.json.gz",
			integrity.DigestKey{Account: "111122223333", Region: "us-east-2", Trail: "a_b_c", HomeRegion: "us-east-1", End: end}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := integrity.ParseDigestKey(tc.key)
			if err != nil || got != tc.want {
				t.Errorf("ParseDigestKey = %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
	good := ok[0].key
	bad := []struct{ name, key, want string }{
		{"log_file_key", strings.NewReplacer("CloudTrail-Digest/", "CloudTrail/").Replace(good), `the folder "CloudTrail" is not CloudTrail-Digest`},
		{"account_differs_in_the_file_name", strings.Replace(good, "/222222222222_", "/333333333333_", 1), "does not start with 222222222222_CloudTrail-Digest_eu-west-1_"},
		{"region_differs_in_the_file_name", strings.Replace(good, "Digest_eu-west-1", "Digest_eu-west-2", 1), "does not start with"},
		{"date_folder_is_not_the_end_date", strings.Replace(good, "/2026/11/02/", "/2026/11/03/", 1), "the folder 2026/11/03 is not the date of the end time"},
		{"end_time_is_not_a_time", strings.Replace(good, "20261102T150000Z", "20261102T250000Z", 1), `"20261102T250000Z" is not a time stamp`},
		{"no_json_gz", strings.Replace(good, ".json.gz", ".json", 1), "does not end with .json.gz"},
		{"bad_trail_name", strings.Replace(good, "_org-trail_", "_org--trail_", 1), `"org--trail" is not a trail name`},
		{"bad_home_region", strings.Replace(good, "_us-east-1_", "_useast1_", 1), `"useast1" is not a region`},
		{"bad_account", strings.ReplaceAll(good, "222222222222", "22222222222x"), "is not a 12-digit account id"},
		{"no_AWSLogs", strings.Replace(good, "AWSLogs/", "Logs/", 1), "no AWSLogs folder"},
		{"empty_prefix_folder", "a//" + good, "has an empty folder"},
		{"too_short", "AWSLogs/x.json.gz", "too few folders"},
	}
	for _, tc := range bad {
		t.Run(tc.name+"_is_rejected", func(t *testing.T) {
			_, err := integrity.ParseDigestKey(tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseDigestKey(%q) = %v, want an error with %q", tc.key, err, tc.want)
			}
		})
	}
}

func TestParseLogFileKey(t *testing.T) {
	key := "AWSLogs/o-a1b2c3d4e5/033333333333/CloudTrail/us-east-1/2026/11/03/033333333333_CloudTrail_us-east-1_20261103T1142Z_xiGOmGGw5lxre1Kz.json.gz"
	got, err := integrity.ParseLogFileKey(key)
	want := integrity.LogFileKey{OrgID: "o-a1b2c3d4e5", Account: "033333333333", Region: "us-east-1", Delivered: time.Date(2026, 11, 3, 11, 42, 0, 0, time.UTC), Unique: "xiGOmGGw5lxre1Kz"}
	if err != nil || got != want {
		t.Errorf("ParseLogFileKey = %+v, %v\nwant %+v", got, err, want)
	}
	bad := []struct{ name, key, want string }{
		{"digest_key", "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/11/02/111122223333_CloudTrail-Digest_us-east-2_t1_us-east-1_20261102T150000Z.json.gz", `the folder "CloudTrail-Digest" is not CloudTrail`},
		{"insight_file", strings.Replace(strings.Replace(key, "/CloudTrail/", "/CloudTrail-Insight/", 1), "_CloudTrail_", "_CloudTrail-Insight_", 1), `the folder "CloudTrail-Insight" is not CloudTrail`},
		{"unique_part_too_short", strings.Replace(key, "xiGOmGGw5lxre1Kz", "xiGOmGGw5lxre1K", 1), "is not 16 letters and digits"},
		{"delivery_with_seconds", strings.Replace(key, "T1142Z", "T114200Z", 1), "is not a time stamp"},
		{"date_folder_is_not_the_delivery_date", strings.Replace(key, "/11/03/", "/11/04/", 1), "is not the date of the delivery time"},
	}
	for _, tc := range bad {
		t.Run(tc.name+"_is_rejected", func(t *testing.T) {
			_, err := integrity.ParseLogFileKey(tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseLogFileKey(%q) = %v, want an error with %q", tc.key, err, tc.want)
			}
		})
	}
}

func TestDigestKeyStreamNamesTheChain(t *testing.T) {
	a, _ := integrity.ParseDigestKey(digestKey(hour(1)))
	b, _ := integrity.ParseDigestKey(digestKey(hour(30)))
	if a.Stream() != b.Stream() || a.Stream() != (integrity.Stream{OrgID: org, Account: account, Region: region, Trail: trail, HomeRegion: region}) {
		t.Errorf("streams %+v, %+v", a.Stream(), b.Stream())
	}
}
