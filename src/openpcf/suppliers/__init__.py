"""Primary data from suppliers and the export compliance dossier: data requests, questionnaire
workbooks, EPDs (ILCD+EPD) as supplier data, the primary-data coverage of a product, and the
requirement catalogue with the evidence held per SKU."""
