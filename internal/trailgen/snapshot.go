package trailgen

import (
	"io"
	"strings"

	"github.com/sentinel-audit/sentinel/sourceid"
)

// writeSnapshot writes one session record per tracked issuance, as a table snapshot taken at
// the end of the generated period (docs/enforce.md, "The session record"). Sessions expire 12 hours after
// they start; ttl is an hour after that; one in fifty was revoked after its issuance.
func (p *plan) writeSnapshot(out io.Writer) (int, error) {
	g := newGenerator(p)
	items := 0
	for si := range p.sessions {
		s := &p.sessions[si]
		if s.class != classTracked {
			continue
		}
		in := g.session(si)
		r := newRNG(p.seed, tagSnapshot, uint64(si), 0)
		started := s.at - int64(5+r.intn(120))
		expires := started + 12*3600
		lastAccess := min(s.at+int64(s.span), p.end)
		status := "active"
		revoked := int64(0)
		if r.chance(0.02) {
			status, revoked = "revoked", min(s.at+int64(s.span)/2+1, p.end)
			lastAccess = revoked
		} else if expires <= p.end {
			status = "expired"
		}
		w := &g.w
		w.b = append(w.b[:0], '{')
		w.str("id", in.sessionID)
		w.str("user", in.user.name)
		w.str("profile", in.role.profile)
		w.str("server_instance_id", "srv-"+sourceid.SanitizeUser(strings.SplitN(in.user.name, "@", 2)[0])+"-"+string(appendHex(nil, mix(uint64(s.user)^p.seed), 4)))
		w.str("status", status)
		w.time("started_at", started)
		w.time("last_access_at", lastAccess)
		w.time("expires_at", expires)
		w.int("request_count", int64(1+r.intn(200)))
		w.str("source_identity", in.sourceIdentity)
		w.time("created_at", started)
		w.time("updated_at", lastAccess)
		w.int("ttl", expires+3600)
		if revoked != 0 {
			w.time("revoked_at", revoked)
			w.str("revoked_by", in.user.name)
			w.str("revoked_reason", "session ended by its user")
		}
		w.str("client_version", "0.9.0")
		w.end()
		w.b = append(w.b, '\n')
		if _, err := out.Write(w.b); err != nil {
			return items, err
		}
		items++
	}
	return items, nil
}
