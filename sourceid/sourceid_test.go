package sourceid

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Identity
		ok   bool
	}{
		{"server_session_with_user", "sentinel-s-0123456789abcdef-alice", Identity{KindSession, "0123456789abcdef", "alice"}, true},
		{"request_with_user", "sentinel-r-fedcba9876543210-bob", Identity{KindRequest, "fedcba9876543210", "bob"}, true},
		{"user_may_contain_dashes_and_at", "sentinel-s-0123456789abcdef-carol-x@example.com", Identity{KindSession, "0123456789abcdef", "carol-x@example.com"}, true},
		{"without_user", "sentinel-r-0123456789abcdef", Identity{KindRequest, "0123456789abcdef", ""}, true},
		{"short_form_is_session", "sentinel-0123456789abcdef", Identity{KindSession, "0123456789abcdef", ""}, true},
		{"uppercase_hex_rejected", "sentinel-s-0123456789ABCDEF-alice", Identity{}, false},
		{"short_id_rejected", "sentinel-s-0123-alice", Identity{}, false},
		{"unknown_kind_rejected", "sentinel-x-0123456789abcdef", Identity{}, false},
		{"single_char_user_rejected", "sentinel-s-0123456789abcdef-", Identity{}, false},
		{"missing_dash_before_user", "sentinel-s-0123456789abcdefalice", Identity{}, false},
		{"colon_is_not_allowed_by_aws", "sentinel-s-0123456789abcdef-a:b", Identity{}, false},
		{"too_long", "sentinel-s-0123456789abcdef-" + strings.Repeat("u", 40), Identity{}, false},
		{"foreign_identity", "okta-carol@example.com", Identity{}, false},
		{"empty", "", Identity{}, false},
		{"prefix_only", "sentinel-", Identity{}, false},
		{"short_form_wrong_length", "sentinel-0123456789abcde", Identity{}, false},
		{"case_sensitive_prefix", "Sentinel-s-0123456789abcdef", Identity{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestMint(t *testing.T) {
	tests := []struct {
		name, user, want string
		kind             Kind
	}{
		{"session_with_user", "alice", "sentinel-s-0123456789abcdef-alice", KindSession},
		{"request_with_user", "bob", "sentinel-r-0123456789abcdef-bob", KindRequest},
		{"user_sanitized", "Dom Ain\\john:doe/x!", "sentinel-s-0123456789abcdef-Dom_Ain_john_doe_x", KindSession},
		{"user_truncated_to_64", strings.Repeat("u", 80), "sentinel-s-0123456789abcdef-" + strings.Repeat("u", 64-28), KindSession},
		{"empty_user_omitted", "", "sentinel-r-0123456789abcdef", KindRequest},
		{"unusable_user_omitted", "äöü", "sentinel-r-0123456789abcdef", KindRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Mint(tt.kind, "0123456789abcdef", tt.user)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Mint = %q, want %q", got, tt.want)
			}
			if len(got) > MaxLen || !Allowed(got) {
				t.Fatalf("minted %q is not accepted by AWS", got)
			}
			if _, ok := Parse(got); !ok {
				t.Fatalf("minted %q does not parse", got)
			}
		})
	}
}

func TestMintRejectsBadInput(t *testing.T) {
	if _, err := Mint("x", "0123456789abcdef", "a"); err == nil || !strings.Contains(err.Error(), `unknown kind "x"`) {
		t.Fatalf("bad kind: got %v", err)
	}
	if _, err := Mint(KindSession, "0123", "a"); err == nil || !strings.Contains(err.Error(), `id "0123"`) {
		t.Fatalf("bad id: got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"sentinel-s-0123456789abcdef-alice", "sentinel-0123456789abcdef", "okta-x", "", "sentinel-r-0123456789abcdef-a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := Parse(s)
		if !ok {
			return
		}
		if !Allowed(s) || !strings.HasPrefix(s, prefix) {
			t.Fatalf("accepted %q that AWS would reject", s)
		}
		if id.Kind != KindSession && id.Kind != KindRequest {
			t.Fatalf("bad kind in %+v", id)
		}
		again, ok := Parse(id.String())
		if !ok || again != id {
			t.Fatalf("round trip of %q: %+v -> %q -> %+v", s, id, id.String(), again)
		}
		minted, err := Mint(id.Kind, id.ID, id.User)
		if err != nil {
			t.Fatalf("mint of parsed %+v: %v", id, err)
		}
		if id.User != "" && minted != id.String() {
			t.Fatalf("mint(%+v) = %q, want %q", id, minted, id.String())
		}
	})
}
