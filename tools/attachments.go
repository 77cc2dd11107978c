package tools

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/outlook-mcp/outlook-mcp/extract"
)

// ---- list_attachments ----

type ListAttachmentsArgs struct {
	MessageID string `json:"message_id" handle:"md" jsonschema_description:"Message id from search_mail or get_message."`
}

// AttachmentInfo is an attachment with its kind: a file, an attached
// Outlook item (an email, event or contact) or a link to a cloud file.
type AttachmentInfo struct {
	Attachment
	Kind string `json:"kind" jsonschema:"enum=file,enum=item,enum=reference"`
}

type ListAttachmentsResult struct {
	Attachments []AttachmentInfo `json:"attachments"`
}

const attachmentFields = "id,name,contentType,size,isInline"

var listAttachments = define("list_attachments", "List attachments",
	"List a message's attachments: id, name, type, size, inline flag, and kind (file, item: an attached email or event, reference: a link). No contents: read one with read_attachment.",
	[]string{"Mail.Read", "Mail.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in ListAttachmentsArgs) (*ListAttachmentsResult, error) {
		id, err := messageID("message_id", in.MessageID)
		if err != nil {
			return nil, err
		}
		path := messagePath(id) + "/attachments"
		out := &ListAttachmentsResult{Attachments: []AttachmentInfo{}}
		// Graph rarely pages attachments; follow a few pages if it does.
		link := ""
		for range 10 {
			var page graphPage[graphAttachment]
			if err := get(ctx, c, path, link, url.Values{"$select": {attachmentFields}}, immutableIDs(), &page); err != nil {
				return nil, err
			}
			for _, a := range page.Value {
				out.Attachments = append(out.Attachments, AttachmentInfo{Attachment: a.attachment(), Kind: a.kind()})
			}
			if link = page.NextLink; link == "" {
				break
			}
		}
		return out, nil
	})

func (r *ListAttachmentsResult) Text() string {
	if len(r.Attachments) == 0 {
		return "The message has no attachments."
	}
	var list strings.Builder
	for i, a := range r.Attachments {
		if i > 0 {
			list.WriteByte('\n')
		}
		fmt.Fprintf(&list, "%d. %s, id %s", i+1, a.describe(), a.ID)
	}
	return fmt.Sprintf("%d attachment(s), names as the sender gave them:\n%s", len(r.Attachments), untrusted(list.String()))
}

// describe is "name (type, size)", with what kind of attachment it is.
func (a AttachmentInfo) describe() string {
	var what string
	switch a.Kind {
	case "item":
		what = "attached Outlook item, e.g. an email"
	case "reference":
		what = "link to a cloud file"
	default:
		what = cmp.Or(a.ContentType, "unknown type")
	}
	s := fmt.Sprintf("%s (%s, %s)", a.Name, what, byteSize(a.Size))
	if a.IsInline {
		s += " [inline]"
	}
	return s
}

func immutableIDs() http.Header { return http.Header{"Prefer": {preferImmutableID}} }

// kind is file, item or reference, from Graph's @odata.type.
func (a graphAttachment) kind() string {
	switch strings.TrimPrefix(a.ODataType, "#microsoft.graph.") {
	case "itemAttachment":
		return "item"
	case "referenceAttachment":
		return "reference"
	}
	return "file"
}

// ---- read_attachment ----

type ReadAttachmentArgs struct {
	MessageID    string `json:"message_id" handle:"md" jsonschema_description:"Message id from search_mail or get_message."`
	AttachmentID string `json:"attachment_id" handle:"a" jsonschema_description:"From list_attachments or get_message."`
	Offset       int    `json:"offset,omitempty" jsonschema:"minimum=0,default=0" jsonschema_description:"next_offset of the previous call."`
	MaxChars     int    `json:"max_chars,omitempty" jsonschema:"minimum=1,maximum=100000,default=20000"`
}

type ReadAttachmentResult struct {
	AttachmentInfo
	Format  string `json:"format,omitempty" jsonschema:"enum=pdf,enum=docx,enum=html,enum=calendar,enum=text"`
	Content string `json:"text,omitempty"`
	Paging
	ResourceURI string `json:"resource_uri,omitempty"` // of the embedded resource with a binary file's bytes
	Note        string `json:"note,omitempty"`

	blob []byte
}

const (
	defaultMaxChars    = 20_000     // then clamped to the response budget
	maxTextOffset      = 10_000_000 // text read_attachment extracts at most, in characters
	maxTextAttachment  = 25 << 20   // the largest attachment downloaded to extract its text
	maxBlobAttachment  = 1 << 20    // the largest binary file returned as an embedded resource
	attachmentURIStart = "outlook://attachments/"
)

var readAttachment = define("read_attachment", "Read an attachment",
	"Read an attachment's text (PDF, Word .docx, HTML, CSV, JSON, .ics, other text), max_chars at a time from offset; next_offset says where to go on. Other files (images, zip…): name, type, size, and the bytes as an embedded resource if ≤ 1 MB. Attached emails and links are described only.",
	[]string{"Mail.Read", "Mail.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in ReadAttachmentArgs) (*ReadAttachmentResult, error) {
		mid, err := messageID("message_id", in.MessageID)
		if err != nil {
			return nil, err
		}
		aid, err := itemID("attachment_id", "an attachment id", in.AttachmentID)
		if err != nil {
			return nil, err
		}
		maxChars, err := c.pageArgs(in.MaxChars, in.Offset, defaultMaxChars)
		if err != nil {
			return nil, err
		}
		if in.Offset >= maxTextOffset {
			return nil, argError("offset", "must be between 0 and %d, not %d", maxTextOffset-1, in.Offset)
		}

		path := messagePath(mid) + "/attachments/" + url.PathEscape(aid)
		var a graphAttachment
		if err := get(ctx, c, path, "", url.Values{"$select": {attachmentFields}}, immutableIDs(), &a); err != nil {
			return nil, err
		}
		out := &ReadAttachmentResult{AttachmentInfo: AttachmentInfo{Attachment: a.attachment(), Kind: a.kind()}}
		out.Format = extract.FormatOf(a.Name, a.ContentType)
		switch {
		case out.Kind == "item":
			out.Format, out.Note = "", "This is an Outlook item attached to the message (an email, event or contact), not a file: read_attachment reads only file attachments. The user can open it in Outlook."
			return out, nil
		case out.Kind == "reference":
			out.Format, out.Note = "", "This is a link to a file in the cloud (OneDrive or SharePoint), not a file in the message: it cannot be read here. The user can open it in Outlook."
			return out, nil
		case out.Format == "" && a.Size > maxBlobAttachment:
			out.Note = fmt.Sprintf("A binary file of %s: too large to return (at most %s). The user can open it in Outlook.", byteSize(a.Size), byteSize(maxBlobAttachment))
			return out, nil
		case out.Format != "" && a.Size > maxTextAttachment:
			return nil, refuse("%s is %s; read_attachment downloads at most %s to extract text. Nothing was downloaded: the user can open it in Outlook.", untrusted(a.Name), byteSize(a.Size), byteSize(maxTextAttachment))
		}

		var data []byte
		if err := get(ctx, c, path+"/$value", "", nil, immutableIDs(), &data); err != nil {
			return nil, err
		}
		if out.Format == "" {
			out.blob = data
			out.ResourceURI = attachmentURIStart + url.PathEscape(aid) // named by its handle once shown (idsShortened)
			return out, nil
		}
		limit := in.Offset + maxChars
		if extract.Cheap(out.Format) {
			limit = maxTextOffset // all of it, so that the characters remaining are known
		}
		text, err := extract.Read(ctx, out.Format, data, limit)
		var unsafe *extract.UnsafeError
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &unsafe):
			return nil, refuse("this %s (%s) could not be read safely: %s. The user can open it in Outlook.", extract.Noun(out.Format), untrusted(a.Name), unsafe.Reason)
		case err != nil:
			return nil, refuse("cannot read the text of %s: %v.", untrusted(a.Name), err)
		}
		if out.Content, err = out.page(text.Text, in.Offset, maxChars, text.Full); err != nil {
			return nil, err
		}
		out.Note = text.Note
		if text.Chars == 0 && text.Note == "" {
			out.Note = "The file holds no text."
		}
		return out, nil
	})

func (r *ReadAttachmentResult) shrink() bool { return r.shrinkPage(&r.Content) }

// Resources is a binary attachment's bytes, never pasted into the text.
func (r *ReadAttachmentResult) Resources() []mcp.Content {
	if r.blob == nil {
		return nil
	}
	return []mcp.Content{mcp.NewEmbeddedResource(mcp.BlobResourceContents{
		URI: r.ResourceURI, MIMEType: cmp.Or(r.ContentType, "application/octet-stream"), Blob: base64.StdEncoding.EncodeToString(r.blob),
	})}
}

// idsShortened names the embedded resource by the attachment's handle.
func (r *ReadAttachmentResult) idsShortened() {
	if r.ResourceURI != "" {
		r.ResourceURI = attachmentURIStart + url.PathEscape(r.ID)
	}
}

func (r *ReadAttachmentResult) Text() string {
	var b strings.Builder
	b.WriteString(untrusted(r.describe()))
	if r.Note != "" {
		b.WriteString("\nNote: " + r.Note)
	}
	if r.ResourceURI != "" {
		b.WriteString("\nThe file's bytes follow as an embedded resource (not as text).")
	}
	if r.Content != "" {
		b.WriteString("\n" + untrusted(r.Content))
	}
	b.WriteString(r.readOn())
	return b.String()
}
