// Package template is tmplrun's data model: the configuration file's
// vault, template_config and task blocks, and each task's template and
// vault blocks exactly as Nomad's jobspec writes them. It decodes HCL
// configuration files — tmplrun's own format or a Nomad jobspec — into
// that model, applies defaults in one place, and validates it, reporting
// every problem at once with file, line and column.
//
//	cfg, err := template.ParseFile("tmplrun.hcl", nil)
//	if err != nil {
//		var perr *template.Error
//		if errors.As(err, &perr) {
//			perr.Write(os.Stderr) // every problem, with source snippets
//		}
//		return err
//	}
//	for _, task := range cfg.Tasks {
//		fmt.Println(task.Name, len(task.Templates))
//	}
//
// Programs that build a Config in code start blocks from NewTemplate,
// NewTask, NewVault and friends (they carry Nomad's defaults), then call
// Canonicalize and Validate.
package template
