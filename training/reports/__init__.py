"""HTML reports and pictures: inspection, model scores, training reports, figures and previews."""
