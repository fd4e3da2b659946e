package awsclient

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
)

// credentialsError is a failure to get credentials, with what is wrong and what to do. Its text
// is the SDK's: Describe puts the words in front.
type credentialsError struct {
	problem, action string
	err             error
}

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// source is what Load knows of where credentials come from: the profile named, and the profile
// with an SSO login in its chain, if any.
type source struct {
	profile string
	sso     *awsconfig.SharedConfig
}

// credentialSource finds the SSO profile in the chain of the loaded shared config profile.
func credentialSource(cfg aws.Config, profile string) source {
	src := source{profile: profile}
	for _, cs := range cfg.ConfigSources {
		sc, ok := cs.(awsconfig.SharedConfig)
		if !ok {
			continue
		}
		for p := &sc; p != nil; p = p.Source {
			if p.SSOSession != nil || p.SSOStartURL != "" {
				src.sso = p
			}
		}
	}
	return src
}

// describedCredentials describes the failures of provider.
type describedCredentials struct {
	provider aws.CredentialsProvider
	source   source
}

// Retrieve is the provider's, its failures described.
func (d describedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := d.provider.Retrieve(ctx)
	if err != nil {
		if problem, action := d.source.explain(err); problem != "" {
			return creds, &credentialsError{problem: problem, action: action, err: err}
		}
	}
	return creds, err
}

// explain says what is wrong with an SSO login or a chain without credentials.
func (s source) explain(err error) (problem, action string) {
	if sso := s.sso; sso != nil {
		login := "run aws sso login --profile " + sso.Profile
		var api smithy.APIError
		var invalid *ssocreds.InvalidTokenError
		switch {
		case errors.As(err, &api) && api.ErrorCode() == "UnauthorizedException":
			return fmt.Sprintf("the AWS SSO portal no longer accepts the login of profile %s", sso.Profile), login
		case errors.As(err, &api) && api.ErrorCode() == "ForbiddenException":
			return fmt.Sprintf("the SSO user of profile %s may not use role %s in account %s", sso.Profile, sso.SSORoleName, sso.SSOAccountID),
				"ask for access to it, or fix sso_account_id and sso_role_name"
		case errors.Is(err, fs.ErrNotExist) && strings.Contains(err.Error(), "SSO token"):
			return fmt.Sprintf("profile %s has no AWS SSO login on this machine", sso.Profile), login
		case errors.As(err, &invalid) || strings.Contains(err.Error(), "SSO token"):
			return fmt.Sprintf("the AWS SSO login of profile %s has expired", sso.Profile), login
		}
	}
	if strings.Contains(err.Error(), "no EC2 IMDS role found") {
		return noCredentials(s.profile)
	}
	return "", ""
}

// describeLoad describes a failure to load the configuration: mostly a profile that is not there.
func describeLoad(what string, err error) error {
	var missing awsconfig.SharedConfigProfileNotExistError
	if !errors.As(err, &missing) {
		return &Error{What: what, Err: err}
	}
	configFile, credentialsFile := os.Getenv("AWS_CONFIG_FILE"), os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if configFile == "" {
		configFile = awsconfig.DefaultSharedConfigFilename()
	}
	if credentialsFile == "" {
		credentialsFile = awsconfig.DefaultSharedCredentialsFilename()
	}
	return &Error{
		What:    what,
		Problem: fmt.Sprintf("profile %s is in neither the AWS config file %s nor the credentials file %s", missing.Profile, configFile, credentialsFile),
		Action:  "add it there, or name a profile that exists (aws configure list-profiles)",
		Err:     err,
	}
}
