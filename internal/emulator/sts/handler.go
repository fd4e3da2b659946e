package sts

import (
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-audit/sentinel/internal/emulator/loopback"
)

const (
	apiVersion = "2011-06-15"
	xmlns      = "https://sts.amazonaws.com/doc/2011-06-15/"

	minDuration = 900
	maxDuration = 43200
	// maxTokenDuration is GetSessionToken's longest DurationSeconds (36 h).
	maxTokenDuration = 129600
)

var (
	// namePattern is STS's pattern for RoleSessionName and SourceIdentity.
	namePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)
	// textPattern is the generic "any printable text" pattern of roleArn.
	textPattern = regexp.MustCompile("^[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]+$")
	// serialPattern is the pattern of an MFA device's SerialNumber.
	serialPattern = regexp.MustCompile(`^[\w+=/:,.@-]*$`)
	// tokenCodePattern is the pattern of an MFA TokenCode (6 digits long).
	tokenCodePattern = regexp.MustCompile(`^\d*$`)
	// roleARNPattern is an IAM role ARN: partition, account, optional path, name.
	roleARNPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]|aws-eusc):iam::(\d{12}):role/((?:[\x21-\x7E]+/)?)([\w+=,.@-]{1,64})$`)
)

// apiError is an STS error response.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) typ() string {
	if e.status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

func validationError(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ValidationError", message: fmt.Sprintf(format, args...)}
}

func accessDenied(callerARN, action, resource string) *apiError {
	return &apiError{status: http.StatusForbidden, code: "AccessDenied",
		message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", callerARN, action, resource)}
}

var (
	errExpiredToken = &apiError{status: http.StatusForbidden, code: "ExpiredToken",
		message: "The security token included in the request is expired"}
	errMissingAuth = &apiError{status: http.StatusForbidden, code: "MissingAuthenticationToken",
		message: "Request is missing Authentication Token"}
	errInternal = &apiError{status: http.StatusInternalServerError, code: "InternalFailure",
		message: "The request processing has failed because of an unknown error."}
)

// request is what every action needs to know about the HTTP request.
type request struct {
	region    string
	accessKey string
	sourceIP  string
	userAgent string
	host      string
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.writeError(w, "", &apiError{status: http.StatusBadRequest, code: "MalformedInput",
			message: "The request body is not a valid form-encoded Query request."})
		return
	}
	req := request{
		region:    s.opts.Region,
		userAgent: r.UserAgent(),
		host:      r.Host,
		sourceIP:  r.RemoteAddr,
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		req.sourceIP = host
	}
	req.accessKey, req.region = loopback.CredentialScope(r, s.opts.Region)

	action := r.Form.Get("Action")
	if v := r.Form.Get("Version"); action != "" && v != "" && v != apiVersion {
		s.writeError(w, "", &apiError{status: http.StatusBadRequest, code: "InvalidAction",
			message: fmt.Sprintf("Could not find operation %s for version %s", action, v)})
		return
	}
	switch action {
	case "AssumeRole":
		s.assumeRole(w, r, req)
	case "GetCallerIdentity":
		s.getCallerIdentity(w, req)
	case "GetSessionToken":
		s.getSessionToken(w, r, req)
	case "":
		s.writeError(w, "", &apiError{status: http.StatusBadRequest, code: "MissingAction",
			message: "Missing Action"})
	default:
		s.writeError(w, "", &apiError{status: http.StatusBadRequest, code: "InvalidAction",
			message: fmt.Sprintf("Could not find operation %s for version %s", action, apiVersion)})
	}
}

// callerOf resolves the principal behind an access key. s.mu must be held.
func (s *Server) callerOf(accessKey string, now time.Time) (Identity, *session, *apiError) {
	if accessKey == "" {
		return Identity{}, nil, errMissingAuth
	}
	sess := s.sessions[accessKey]
	if s.revoked[accessKey] || (sess != nil && !now.Before(sess.expires)) {
		id := Identity{AccessKeyID: accessKey}
		if sess != nil {
			id = sess.identity
		}
		return id, sess, errExpiredToken
	}
	if sess != nil {
		return sess.identity, sess, nil
	}
	if id, ok := s.callers[accessKey]; ok {
		return id, nil, nil
	}
	arn := "arn:aws:iam::" + DefaultAccount + ":user/emulator-user"
	return Identity{AccessKeyID: accessKey, ARN: arn, Account: DefaultAccount, UserID: principalID(arn, accessKey)}, nil, nil
}

func (s *Server) getCallerIdentity(w http.ResponseWriter, req request) {
	s.mu.Lock()
	id, _, apiErr := s.callerOf(req.accessKey, s.opts.Now())
	var requestID string
	var err error
	if apiErr == nil {
		requestID, err = s.uuid()
	}
	s.mu.Unlock()
	if apiErr != nil {
		s.writeError(w, "", apiErr)
		return
	}
	if err != nil {
		s.writeError(w, "", errInternal)
		return
	}
	s.writeXML(w, requestID, getCallerIdentityResponse{
		Result: getCallerIdentityResult{Arn: id.ARN, UserID: id.UserID, Account: id.Account},
		Meta:   responseMetadata{RequestID: requestID},
	})
}

// errRootAssumeRole is STS's refusal of AssumeRole with the account root user's credentials,
// its own or those of its GetSessionToken sessions.
var errRootAssumeRole = &apiError{status: http.StatusForbidden, code: "AccessDenied",
	message: "Roles may not be assumed by root accounts."}

// isRoot reports whether caller is an account's root user.
func isRoot(caller Identity) bool { return strings.HasSuffix(caller.ARN, ":root") }

var errSessionCredentials = &apiError{status: http.StatusForbidden, code: "AccessDenied",
	message: "Cannot call GetSessionToken with session credentials"}

// getSessionToken issues a session of the caller, an IAM user (or root) with
// long-term keys, authenticated with MFA when the call carries a code. The
// session acts as its user: GetCallerIdentity names the user, and roles
// that require MFA accept it when it was.
func (s *Server) getSessionToken(w http.ResponseWriter, r *http.Request, req request) {
	mfa := readMFAParams(r)
	durationRaw := r.Form.Get("DurationSeconds")
	_, hasDuration := r.Form["DurationSeconds"]
	var v []string
	duration := 0
	if hasDuration {
		n, err := strconv.Atoi(durationRaw)
		shown := "'" + durationRaw + "'"
		switch {
		case err != nil:
			v = append(v, fmt.Sprintf("Value %s at 'durationSeconds' failed to satisfy constraint: Member must be a whole number", shown))
		case n < minDuration:
			v = append(v, fmt.Sprintf("Value %s at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", shown, minDuration))
		case n > maxTokenDuration:
			v = append(v, fmt.Sprintf("Value %s at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", shown, maxTokenDuration))
		}
		duration = n
	}
	v = append(v, validateMFA(mfa)...)

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now().UTC()
	requestID, err := s.uuid()
	if err != nil {
		s.writeError(w, "", errInternal)
		return
	}
	caller, callerSession, apiErr := s.callerOf(req.accessKey, now)
	tok := SessionToken{Time: now, Caller: caller, MFASerial: mfa.serial}
	var out credentials
	if apiErr == nil {
		out, apiErr = s.issueSessionToken(&tok, caller, callerSession, mfa, v, hasDuration, duration, now)
	}
	if apiErr != nil {
		tok.ErrorCode = apiErr.code
		s.tokens = append(s.tokens, tok)
		s.writeError(w, requestID, apiErr)
		return
	}
	s.tokens = append(s.tokens, tok)
	s.writeXML(w, requestID, getSessionTokenResponse{Result: getSessionTokenResult{Credentials: out}, Meta: responseMetadata{RequestID: requestID}})
}

// issueSessionToken checks a GetSessionToken call and mints its session.
// s.mu must be held.
func (s *Server) issueSessionToken(tok *SessionToken, caller Identity, callerSession *session, mfa mfaParams, violations []string,
	hasDuration bool, duration int, now time.Time) (credentials, *apiError) {
	if apiErr := validationErrors(violations); apiErr != nil {
		return credentials{}, apiErr
	}
	if callerSession != nil || strings.Contains(caller.ARN, ":assumed-role/") {
		return credentials{}, errSessionCredentials
	}
	d := DefaultSessionTokenDuration
	if hasDuration {
		d = time.Duration(duration) * time.Second
	}
	if isRoot(caller) {
		// STS does not refuse a longer one: the root user's session lasts an hour at most.
		d = min(d, RootSessionTokenLimit)
	}
	if mfa.given() {
		if apiErr := s.checkMFA(caller, mfa.serial, mfa.code, now); apiErr != nil {
			return credentials{}, apiErr
		}
	}
	creds, err := s.newCredentials()
	if err != nil {
		return credentials{}, errInternal
	}
	expires := now.Add(d)
	id := caller
	id.AccessKeyID = creds.AccessKeyID
	s.sessions[creds.AccessKeyID] = &session{identity: id, userToken: true, mfa: mfa.given(), issued: now, expires: expires}
	tok.Duration, tok.AccessKeyID, tok.Expiration = d, creds.AccessKeyID, expires
	creds.Expiration = expires.Format(time.RFC3339)
	return creds, nil
}

// assumeRoleParams are the AssumeRole parameters the emulator understands.
// Policy, PolicyArns, Tags and ExternalId are accepted and ignored.
type assumeRoleParams struct {
	roleARN, sessionName, sourceIdentity string
	durationRaw                          string
	hasRoleARN, hasSessionName           bool
	hasDuration, hasSourceIdentity       bool
	duration                             int
	mfa                                  mfaParams
}

// mfaParams are the SerialNumber and TokenCode of AssumeRole and
// GetSessionToken.
type mfaParams struct {
	serial, code        string
	hasSerial, hasToken bool
}

func readMFAParams(r *http.Request) mfaParams {
	p := mfaParams{serial: r.Form.Get("SerialNumber"), code: r.Form.Get("TokenCode")}
	_, p.hasSerial = r.Form["SerialNumber"]
	_, p.hasToken = r.Form["TokenCode"]
	return p
}

// given says the call sends an MFA device or code.
func (p mfaParams) given() bool { return p.hasSerial || p.hasToken }

func (s *Server) assumeRole(w http.ResponseWriter, r *http.Request, req request) {
	p := assumeRoleParams{
		roleARN:        r.Form.Get("RoleArn"),
		sessionName:    r.Form.Get("RoleSessionName"),
		durationRaw:    r.Form.Get("DurationSeconds"),
		sourceIdentity: r.Form.Get("SourceIdentity"),
	}
	_, p.hasRoleARN = r.Form["RoleArn"]
	_, p.hasSessionName = r.Form["RoleSessionName"]
	_, p.hasDuration = r.Form["DurationSeconds"]
	_, p.hasSourceIdentity = r.Form["SourceIdentity"]
	p.mfa = readMFAParams(r)

	requestID, out, apiErr := s.processAssumeRole(&p, req)
	if apiErr != nil {
		s.writeError(w, requestID, apiErr)
		return
	}
	s.writeXML(w, requestID, assumeRoleResponse{Result: *out, Meta: responseMetadata{RequestID: requestID}})
}

// processAssumeRole runs one AssumeRole call and logs it. The lock is held
// for the whole call so issuances are logged in the order they happen.
func (s *Server) processAssumeRole(p *assumeRoleParams, req request) (string, *assumeRoleResult, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now().UTC()
	requestID, err := s.uuid()
	if err != nil {
		return "", nil, errInternal
	}
	iss := Issuance{
		Time:           now,
		Region:         req.region,
		RequestID:      requestID,
		RoleARN:        p.roleARN,
		SessionName:    p.sessionName,
		SourceIdentity: p.sourceIdentity,
	}
	caller, callerSession, apiErr := s.callerOf(req.accessKey, now)
	iss.Caller = caller
	var out *assumeRoleResult
	if apiErr == nil {
		out, apiErr = s.issue(&iss, p, caller, callerSession, now)
	}
	if apiErr != nil {
		iss.ErrorCode = apiErr.code
	}
	if err := s.recordIssuance(&iss, p, req, callerSession, out, apiErr); err != nil {
		return requestID, nil, errInternal
	}
	return requestID, out, apiErr
}

// issue validates an AssumeRole call like STS does and, if it passes, mints
// the session. s.mu must be held.
func (s *Server) issue(iss *Issuance, p *assumeRoleParams, caller Identity, callerSession *session, now time.Time) (*assumeRoleResult, *apiError) {
	if apiErr := validateAssumeRole(p); apiErr != nil {
		return nil, apiErr
	}
	m := roleARNPattern.FindStringSubmatch(p.roleARN)
	if m == nil {
		return nil, validationError("%s is invalid", p.roleARN)
	}
	partition, roleAccount, roleName := m[1], m[2], m[4]

	if isRoot(caller) {
		return nil, errRootAssumeRole
	}
	r, known := s.roles[p.roleARN]
	if !known {
		if !s.opts.AllowAnyRole {
			return nil, accessDenied(caller.ARN, "sts:AssumeRole", p.roleARN)
		}
		r = &role{maxSession: DefaultMaxSessionDuration}
	}
	maxSession := r.maxSession
	mfa := callerSession != nil && callerSession.mfa
	if p.mfa.given() {
		if apiErr := s.checkMFA(caller, p.mfa.serial, p.mfa.code, now); apiErr != nil {
			return nil, apiErr
		}
		mfa = true
	}
	iss.MFA = mfa
	if !r.trust.names(caller) || r.trust.MFARequired && !mfa {
		return nil, accessDenied(caller.ARN, "sts:AssumeRole", p.roleARN)
	}
	if r.trust.NoSetSourceIdentity && p.hasSourceIdentity {
		return nil, accessDenied(caller.ARN, "sts:SetSourceIdentity", p.roleARN)
	}
	// A GetSessionToken session acts as its user: assuming a role with it is
	// not role chaining.
	chained := (callerSession != nil && !callerSession.userToken) || strings.Contains(caller.ARN, ":assumed-role/")
	duration := min(time.Hour, maxSession)
	if p.hasDuration {
		duration = time.Duration(p.duration) * time.Second
		if duration > maxSession {
			return nil, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
		if chained && duration > ChainedSessionLimit {
			return nil, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
		}
	}
	iss.Duration = duration

	// A source identity, once set, follows the session through role chaining
	// and cannot be changed.
	sourceIdentity := p.sourceIdentity
	if callerSession != nil && callerSession.sourceIdentity != "" {
		if p.hasSourceIdentity && p.sourceIdentity != callerSession.sourceIdentity {
			return nil, accessDenied(caller.ARN, "sts:SetSourceIdentity", p.roleARN)
		}
		sourceIdentity = callerSession.sourceIdentity
	}
	iss.SourceIdentity = sourceIdentity

	creds, err := s.newCredentials()
	if err != nil {
		return nil, errInternal
	}
	roleID := roleIDFor(p.roleARN)
	assumedARN := fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, roleAccount, roleName, p.sessionName)
	expires := now.Add(duration)
	s.sessions[creds.AccessKeyID] = &session{
		identity: Identity{
			AccessKeyID: creds.AccessKeyID,
			ARN:         assumedARN,
			Account:     roleAccount,
			UserID:      roleID + ":" + p.sessionName,
		},
		roleARN:        p.roleARN,
		roleID:         roleID,
		sourceIdentity: sourceIdentity,
		mfa:            mfa,
		issued:         now,
		expires:        expires,
	}
	iss.AccessKeyID = creds.AccessKeyID
	iss.Expiration = expires
	creds.Expiration = expires.Format(time.RFC3339)
	return &assumeRoleResult{
		SourceIdentity: sourceIdentity,
		AssumedRoleUser: assumedRoleUser{
			Arn:           assumedARN,
			AssumedRoleID: roleID + ":" + p.sessionName,
		},
		Credentials: creds,
	}, nil
}

// names reports whether the trust policy names caller.
func (t Trust) names(caller Identity) bool {
	if len(t.Principals) == 0 {
		return true
	}
	for _, p := range t.Principals {
		if p == caller.ARN || p == "arn:aws:iam::"+caller.Account+":root" {
			return true
		}
	}
	return false
}

// validateAssumeRole applies the input constraints of the STS model and
// reports all violations at once, in STS's "N validation errors detected"
// form.
func validateAssumeRole(p *assumeRoleParams) *apiError {
	var v []string
	violate := func(value *string, field, constraint string) {
		shown := "null"
		if value != nil {
			shown = "'" + *value + "'"
		}
		v = append(v, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member %s", shown, field, constraint))
	}
	if !p.hasRoleARN {
		violate(nil, "roleArn", "must not be null")
	} else {
		if !textPattern.MatchString(p.roleARN) {
			violate(&p.roleARN, "roleArn", `must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+`)
		}
		if len(p.roleARN) < 20 {
			violate(&p.roleARN, "roleArn", "must have length greater than or equal to 20")
		}
		if len(p.roleARN) > 2048 {
			violate(&p.roleARN, "roleArn", "must have length less than or equal to 2048")
		}
	}
	checkName := func(has bool, value *string, field string) {
		if !has {
			return
		}
		if !namePattern.MatchString(*value) {
			violate(value, field, `must satisfy regular expression pattern: [\w+=,.@-]*`)
		}
		if len(*value) < 2 {
			violate(value, field, "must have length greater than or equal to 2")
		}
		if len(*value) > 64 {
			violate(value, field, "must have length less than or equal to 64")
		}
	}
	if !p.hasSessionName {
		violate(nil, "roleSessionName", "must not be null")
	} else {
		checkName(true, &p.sessionName, "roleSessionName")
	}
	if p.hasDuration {
		n, err := strconv.Atoi(p.durationRaw)
		switch {
		case err != nil:
			violate(&p.durationRaw, "durationSeconds", "must be a whole number")
		case n < minDuration:
			violate(&p.durationRaw, "durationSeconds", fmt.Sprintf("must have value greater than or equal to %d", minDuration))
		case n > maxDuration:
			violate(&p.durationRaw, "durationSeconds", fmt.Sprintf("must have value less than or equal to %d", maxDuration))
		}
		p.duration = n
	}
	checkName(p.hasSourceIdentity, &p.sourceIdentity, "sourceIdentity")
	v = append(v, validateMFA(p.mfa)...)
	return validationErrors(v)
}

// validateMFA applies the model's constraints on SerialNumber and TokenCode.
func validateMFA(p mfaParams) []string {
	var v []string
	violate := func(value, field, constraint string) {
		v = append(v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member %s", value, field, constraint))
	}
	if p.hasSerial {
		if !serialPattern.MatchString(p.serial) {
			violate(p.serial, "serialNumber", `must satisfy regular expression pattern: [\w+=/:,.@-]*`)
		}
		if len(p.serial) < 9 {
			violate(p.serial, "serialNumber", "must have length greater than or equal to 9")
		}
		if len(p.serial) > 256 {
			violate(p.serial, "serialNumber", "must have length less than or equal to 256")
		}
	}
	if p.hasToken {
		if !tokenCodePattern.MatchString(p.code) {
			violate(p.code, "tokenCode", `must satisfy regular expression pattern: [\d]*`)
		}
		if len(p.code) < 6 {
			violate(p.code, "tokenCode", "must have length greater than or equal to 6")
		}
		if len(p.code) > 6 {
			violate(p.code, "tokenCode", "must have length less than or equal to 6")
		}
	}
	return v
}

// validationErrors is STS's "N validation errors detected" error, or nil.
func validationErrors(v []string) *apiError {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return validationError("1 validation error detected: %s", v[0])
	default:
		return validationError("%d validation errors detected: %s", len(v), strings.Join(v, "; "))
	}
}

// XML response shapes, exactly as STS sends them.
type (
	responseMetadata struct {
		RequestID string `xml:"RequestId"`
	}
	assumeRoleResponse struct {
		XMLName xml.Name         `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
		Result  assumeRoleResult `xml:"AssumeRoleResult"`
		Meta    responseMetadata `xml:"ResponseMetadata"`
	}
	assumeRoleResult struct {
		SourceIdentity  string          `xml:"SourceIdentity,omitempty"`
		AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
		Credentials     credentials     `xml:"Credentials"`
	}
	assumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	}
	credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	getSessionTokenResponse struct {
		XMLName xml.Name              `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetSessionTokenResponse"`
		Result  getSessionTokenResult `xml:"GetSessionTokenResult"`
		Meta    responseMetadata      `xml:"ResponseMetadata"`
	}
	getSessionTokenResult struct {
		Credentials credentials `xml:"Credentials"`
	}
	getCallerIdentityResponse struct {
		XMLName xml.Name                `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
		Result  getCallerIdentityResult `xml:"GetCallerIdentityResult"`
		Meta    responseMetadata        `xml:"ResponseMetadata"`
	}
	getCallerIdentityResult struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}
	errorResponse struct {
		XMLName   xml.Name    `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
		Error     errorDetail `xml:"Error"`
		RequestID string      `xml:"RequestId"`
	}
	errorDetail struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
)

func (s *Server) writeXML(w http.ResponseWriter, requestID string, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		s.writeError(w, requestID, errInternal)
		return
	}
	writeBody(w, http.StatusOK, requestID, b)
}

// writeError writes an STS ErrorResponse. Messages never carry secrets: they
// name ARNs and parameter values, as STS's own do.
func (s *Server) writeError(w http.ResponseWriter, requestID string, e *apiError) {
	if requestID == "" {
		var err error
		if requestID, err = s.uuid(); err != nil {
			requestID = "00000000-0000-0000-0000-000000000000"
		}
	}
	b, _ := xml.Marshal(errorResponse{
		Error:     errorDetail{Type: e.typ(), Code: e.code, Message: e.message},
		RequestID: requestID,
	})
	writeBody(w, e.status, requestID, b)
}

func writeBody(w http.ResponseWriter, status int, requestID string, b []byte) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
