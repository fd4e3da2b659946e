package enforce

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sentinel-audit/sentinel/internal/testenv"
)

// record is an active session record started at at.
func record(id, profile string, at time.Time) Session {
	at = at.UTC()
	expires := at.Add(15 * time.Minute)
	return Session{
		ID: id, User: "alice", Profile: profile, ServerInstanceID: "00000000000000aa", Status: StatusActive,
		StartedAt: at, ExpiresAt: expires, SourceIdentity: "sentinel-s-" + id + "-alice",
		CreatedAt: at, UpdatedAt: at, TTL: expires.Add(time.Hour).Unix(),
	}
}

func TestSessionStore(t *testing.T) {
	testenv.EachDynamoDB(t, func(t *testing.T, dynamoDBEndpoint string) {
		ctx := context.Background()
		db := dynamoClient(dynamoDBEndpoint)
		store := SessionStore{DB: db, Table: createTable(t, db)}
		rec := record("0123456789abcdef", "prod", start)
		if err := store.Create(ctx, rec); err != nil {
			t.Fatalf("Create: %v", err)
		}

		t.Run("record_has_exactly_the_design_attributes", func(t *testing.T) {
			out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(store.Table), Key: key(rec.ID)})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for name := range out.Item {
				names = append(names, name)
			}
			sort.Strings(names)
			want := []string{"created_at", "expires_at", "id", "profile", "request_count", "server_instance_id", "source_identity",
				"started_at", "status", "ttl", "updated_at", "user"}
			if !reflect.DeepEqual(names, want) {
				t.Errorf("attributes %v, want %v", names, want)
			}
			if got := out.Item["started_at"].(*types.AttributeValueMemberS).Value; got != "2026-11-02T09:30:00Z" {
				t.Errorf("started_at = %s, want RFC 3339 UTC", got)
			}
			if got := out.Item["ttl"].(*types.AttributeValueMemberN).Value; got != "1793616300" {
				t.Errorf("ttl = %s, want expires_at + 1h in epoch seconds (1793616300, 10:45Z)", got)
			}
		})
		t.Run("get_reads_back_what_create_wrote", func(t *testing.T) {
			got, err := store.Get(ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, rec) {
				t.Errorf("Get = %+v\nwant  %+v", got, rec)
			}
		})
		t.Run("conditional_put_refuses_a_duplicate_id", func(t *testing.T) {
			dup := record(rec.ID, "dev", start.Add(time.Minute))
			if err := store.Create(ctx, dup); !errors.Is(err, ErrSessionExists) {
				t.Fatalf("Create duplicate = %v, want ErrSessionExists", err)
			}
			if got, _ := store.Get(ctx, rec.ID); got.Profile != "prod" {
				t.Errorf("duplicate overwrote the record: profile %s", got.Profile)
			}
		})
		t.Run("touch_records_each_request", func(t *testing.T) {
			later := start.Add(2 * time.Minute)
			expires := start.Add(20 * time.Minute)
			for range 2 {
				if err := store.Touch(ctx, rec.ID, later, expires); err != nil {
					t.Fatalf("Touch: %v", err)
				}
			}
			got, _ := store.Get(ctx, rec.ID)
			if got.RequestCount != 2 || !got.LastAccessAt.Equal(later) || !got.UpdatedAt.Equal(later) || !got.ExpiresAt.Equal(expires) ||
				got.TTL != expires.Add(time.Hour).Unix() {
				t.Errorf("after two requests: %+v", got)
			}
		})
		t.Run("revoke_marks_it_and_later_requests_fail", func(t *testing.T) {
			at := start.Add(5 * time.Minute)
			got, err := store.Revoke(ctx, rec.ID, aliceARN, "laptop stolen", at)
			if err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if got.Status != StatusRevoked || got.RevokedBy != aliceARN || got.RevokedReason != "laptop stolen" || !got.UpdatedAt.Equal(at) ||
				!got.RevokedAt.Equal(at) {
				t.Errorf("revoked record: %+v", got)
			}
			var inactive *InactiveError
			err = store.Touch(ctx, rec.ID, at, at)
			if !errors.As(err, &inactive) {
				t.Fatalf("Touch after revoke = %v, want *InactiveError", err)
			}
			want := "record a credential request for session 0123456789abcdef in table " + store.Table +
				": session 0123456789abcdef was revoked by " + aliceARN + " at 2026-11-02T09:35:00Z: laptop stolen"
			if err.Error() != want {
				t.Errorf("Touch after revoke:\n%v\nwant\n%s", err, want)
			}
			if _, err := store.Revoke(ctx, rec.ID, aliceARN, "again", at); !errors.As(err, &inactive) {
				t.Errorf("second Revoke = %v, want *InactiveError", err)
			}
			if err := store.Expire(ctx, rec.ID, at); err != nil {
				t.Errorf("Expire of a revoked session: %v", err)
			}
			if got, _ := store.Get(ctx, rec.ID); got.Status != StatusRevoked {
				t.Errorf("Expire changed a revoked session to %s", got.Status)
			}
		})
		t.Run("expire_ends_an_active_session", func(t *testing.T) {
			other := record("00000000000000ee", "dev", start)
			if err := store.Create(ctx, other); err != nil {
				t.Fatal(err)
			}
			if err := store.Expire(ctx, other.ID, start.Add(time.Hour)); err != nil {
				t.Fatalf("Expire: %v", err)
			}
			got, _ := store.Get(ctx, other.ID)
			if got.Status != StatusExpired || !got.UpdatedAt.Equal(start.Add(time.Hour)) {
				t.Errorf("expired record: %+v", got)
			}
			var inactive *InactiveError
			if err := store.Touch(ctx, other.ID, start, start); !errors.As(err, &inactive) || inactive.Session.Status != StatusExpired {
				t.Errorf("Touch after expire = %v, want *InactiveError for an expired session", err)
			}
		})
		t.Run("unknown_id_is_not_found", func(t *testing.T) {
			if err := store.Touch(ctx, "ffffffffffffffff", start, start); !errors.Is(err, ErrSessionNotFound) {
				t.Errorf("Touch = %v, want ErrSessionNotFound", err)
			}
			if _, err := store.Revoke(ctx, "ffffffffffffffff", aliceARN, "x", start); !errors.Is(err, ErrSessionNotFound) {
				t.Errorf("Revoke = %v, want ErrSessionNotFound", err)
			}
		})
	})
}

// TestSessionStoreRevokeRace: credential requests racing a revocation. Each request's update is
// conditional on the session being active, so every request counted happened before the
// revocation, every request after it is refused, and the record ends revoked.
func TestSessionStoreRevokeRace(t *testing.T) {
	testenv.EachDynamoDB(t, func(t *testing.T, dynamoDBEndpoint string) {
		ctx := context.Background()
		db := dynamoClient(dynamoDBEndpoint)
		store := SessionStore{DB: db, Table: createTable(t, db)}
		rec := record("00000000000000ab", "prod", start)
		if err := store.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		const requests = 24
		var wg sync.WaitGroup
		var served, refused atomic.Int64
		revoked := make(chan struct{})
		for i := range requests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == requests/2 {
					if _, err := store.Revoke(ctx, rec.ID, aliceARN, "race", start); err != nil {
						t.Errorf("Revoke: %v", err)
					}
					close(revoked)
				}
				err := store.Touch(ctx, rec.ID, start, start.Add(15*time.Minute))
				var inactive *InactiveError
				switch {
				case err == nil:
					served.Add(1)
				case errors.As(err, &inactive) && inactive.Session.Status == StatusRevoked:
					refused.Add(1)
				default:
					t.Errorf("Touch: %v", err)
				}
			}()
		}
		wg.Wait()
		<-revoked
		got, err := store.Get(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusRevoked || got.RequestCount != served.Load() || served.Load()+refused.Load() != requests || refused.Load() == 0 {
			t.Errorf("record %+v after %d served and %d refused requests", got, served.Load(), refused.Load())
		}
		if err := store.Touch(ctx, rec.ID, start, start); err == nil {
			t.Error("a request after the revocation was served")
		}
		if got2, _ := store.Get(ctx, rec.ID); got2.RequestCount != got.RequestCount {
			t.Errorf("a refused request was counted: %d, then %d", got.RequestCount, got2.RequestCount)
		}
	})
}

func TestSessionStoreList(t *testing.T) {
	testenv.EachDynamoDB(t, func(t *testing.T, dynamoDBEndpoint string) {
		ctx := context.Background()
		db := dynamoClient(dynamoDBEndpoint)
		store := SessionStore{DB: db, Table: createTable(t, db)}
		for i, r := range []Session{
			record("000000000000000a", "prod", start.Add(-40*24*time.Hour)),
			record("000000000000000b", "prod", start.Add(-2*time.Hour)),
			record("000000000000000c", "dev", start.Add(-time.Hour)),
			record("000000000000000d", "prod", start),
		} {
			if i == 1 {
				r.Status = StatusRevoked
			}
			if err := store.Create(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name   string
			filter SessionFilter
			want   []string
		}{
			{"everything_newest_first", SessionFilter{}, []string{"000000000000000d", "000000000000000c", "000000000000000b", "000000000000000a"}},
			{"by_status", SessionFilter{Status: StatusActive}, []string{"000000000000000d", "000000000000000c", "000000000000000a"}},
			{"by_profile", SessionFilter{Profile: "dev"}, []string{"000000000000000c"}},
			{"since", SessionFilter{Since: start.Add(-30 * 24 * time.Hour)}, []string{"000000000000000d", "000000000000000c", "000000000000000b"}},
			{"all_together", SessionFilter{Status: StatusActive, Profile: "prod", Since: start.Add(-30 * 24 * time.Hour)}, []string{"000000000000000d"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := store.List(ctx, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, s := range got {
					ids = append(ids, s.ID)
				}
				if !reflect.DeepEqual(ids, tt.want) {
					t.Errorf("List = %v, want %v", ids, tt.want)
				}
			})
		}
	})
}
