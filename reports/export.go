package reports

import (
	"context"
	"database/sql"
	"io"
)

// AuditViews opens the warehouse with the audit views prepared as the audit reports see them
// (issuances classified, annotated with the policy, profiles mapped) and returns its database and
// what closes it: what `sentinel export` copies (bundle.Input's Evidence). Ambiguous profile
// names are reported on diag.
func AuditViews(in AuditInput, diag io.Writer) func(context.Context) (*sql.DB, io.Closer, error) {
	return func(ctx context.Context) (*sql.DB, io.Closer, error) {
		a, err := openAudit(ctx, in, diag)
		if err != nil {
			return nil, nil, err
		}
		return a.reader.DB(), a, nil
	}
}
