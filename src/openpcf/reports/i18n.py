"""The bilingual message catalogue of the CFP study report (English and Simplified Chinese).

Every word the report prints that does not come from the model file lives here, under one key
per message, so the template holds no text and a translation is a change to this file only.
Chinese terms follow GB/T 24067-2024 (the Chinese adoption of ISO 14067:2018): 产品碳足迹,
功能单位 / 声明单位, 基准流, 系统边界, 取舍准则, 生命周期阶段, 数据质量, 分配, 全球增温潜势,
鉴定性评审. Text taken from the model file (names, comments, exclusions) is shown as written.

Messages with ``{name}`` fields are filled in by :mod:`openpcf.reports.build` with
:meth:`str.format`; the template only prints finished strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from openpcf.reports.errors import UnknownLanguageError

LANGUAGES: tuple[str, ...] = ("en", "zh")

_EN: dict[str, str] = {
    # document
    "title": "Carbon footprint of a product (CFP) study report",
    "subtitle": "according to ISO 14067:2018, clause 7",
    "generated": "Generated",
    "software": "Software",
    "page_of": "Page {n} of {total}",
    "contents": "Contents",
    "yes": "yes",
    "no": "no",
    "none": "none",
    "not_applicable": "not applicable",
    # section titles
    "s_summary": "Results",
    "s_scope": "Product, functional or declared unit and reference flow",
    "s_boundary": "System boundary and cut-off",
    "s_processes": "Life-cycle stages and significant processes",
    "s_data": "Data sources and data quality",
    "s_ghg": "Greenhouse gases and GWP values",
    "s_allocation": "Allocation",
    "s_electricity": "Treatment of electricity",
    "s_period": "Time period",
    "s_sensitivity": "Sensitivity analysis and uncertainty",
    "s_interpretation": "Interpretation: conclusions, limitations and value choices",
    "s_rules": "Rules used and critical review",
    "s_checklist": "Annex A: ISO 14067:2018 clause 7 checklist",
    "s_provenance": "Annex B: provenance",
    # summary
    "total": "CFP (all GHG emissions and removals)",
    "per_declared_unit": "per {amount} {unit}",
    "split_title": "Values reported separately (ISO 14067 7.2)",
    "part": "part",
    "value": "value",
    "fossil": "Net fossil GHG emissions and removals",
    "biogenic": "Biogenic GHG emissions",
    "uptake": "Biogenic CO2 removals (uptake)",
    "luc": "GHG emissions from direct land-use change (dLUC)",
    "aircraft": "GHG emissions from aircraft transport (included above)",
    "pcf_excl": "PCF excluding biogenic uptake (PACT)",
    "pcf_incl": "PCF including biogenic uptake (PACT)",
    "not_calculated": (
        "Indirect land-use change (iLUC), land-use emissions other than dLUC, biogenic carbon "
        "content and the timing of emissions were not calculated."
    ),
    "offsets": "Offsets are not part of the CFP and are not included.",
    "chart_stages": "Emissions by life-cycle stage",
    "chart_contributors": "Top contributors",
    "chart_gases": "Contribution by greenhouse gas",
    "chart_quality": "Data quality rating (1 best, 5 worst)",
    "stage": "life-cycle stage",
    "share": "share",
    "included": "included",
    # stages
    "stage_raw_material_acquisition": "Raw material acquisition",
    "stage_production": "Production",
    "stage_distribution": "Distribution",
    "stage_use": "Use",
    "stage_end_of_life": "End of life",
    # scope
    "product": "Product",
    "product_name": "name",
    "description": "description",
    "identifiers": "identifiers",
    "cn_code": "customs (CN) code",
    "cpc": "UN CPC code",
    "company": "organisation",
    "geography": "geography",
    "unit_kind": "functional or declared unit",
    "declared_unit_text": "Declared unit: {amount} {unit} of product (partial or full CFP, see 3)",
    "reference_flow": "reference flow",
    "reference_flow_text": "{amount} {unit} of '{product}' from process '{process}'",
    "mass_per_unit": "mass per declared unit",
    # boundary
    "boundary": "system boundary",
    "boundary_cradle-to-gate": "cradle to gate (partial CFP)",
    "boundary_cradle-to-grave": "cradle to grave (CFP)",
    "boundary_gate-to-gate": "gate to gate (partial CFP)",
    "stages_included": "life-cycle stages included",
    "stages_omitted": "life-cycle stages omitted",
    "omitted_reason": "outside the {boundary} boundary",
    "elementary_flows": "elementary flows",
    "elementary_flows_text": (
        "Greenhouse-gas emissions and removals, kept per gas until characterisation "
        "(see section 6); other elementary flows are outside the scope of a CFP."
    ),
    "cutoff": "cut-off criterion",
    "cutoff_text": (
        "{percent} % of the CFP: processes and inputs below this share may be omitted if "
        "listed below; in the contribution tree smaller branches are folded, but every "
        "modelled exchange counts in the total."
    ),
    "exclusions": "Omitted processes, inputs and data (with justification)",
    "no_exclusions": "The model declares no omissions.",
    "model_comment": "Comment in the model",
    # processes
    "processes_intro": (
        "{n} unit processes were modelled. A process is marked significant when it carries at "
        "least the cut-off share ({percent} %) of the CFP (its own emissions and what it draws "
        "from the background)."
    ),
    "process": "process",
    "name": "name",
    "output": "reference product",
    "significant": "significant",
    "co2e": "kg CO2e",
    "comment": "comment",
    "contributors_title": "Top contributing exchanges",
    "exchange": "exchange",
    "amount": "amount",
    "primary": "primary data",
    "pedigree": "pedigree (R,C,T,G,Te)",
    # data
    "data_intro": (
        "Background data are emission factors, each with its source, year, geography and "
        "licence. Foreground amounts come from the model file; an exchange is primary data "
        "when the model marks it so."
    ),
    "primary_share": "share of the CFP from primary data",
    "dqr": "data quality rating (DQR)",
    "dqr_text": "{value} ({label}; PEF levels)",
    "dqr_technological": "technological representativeness",
    "dqr_geographical": "geographical representativeness",
    "dqr_temporal": "time representativeness",
    "dqr_overall": "overall",
    "coverage": "share of the CFP whose exchanges carry pedigree scores",
    "missing_data": "treatment of missing data",
    "missing_data_text": (
        "An exchange without pedigree scores is rated 5 (unknown) on every indicator, so "
        "missing information never improves the rating. Factors without an open published "
        "figure are flagged as illustrative and listed under limitations."
    ),
    "dqr_method": (
        "DQR = contribution-weighted mean of the exchanges' Weidema pedigree scores "
        "(|kg CO2e| as weights); labels per PEF (EU 2021/2279): ≤ 1.5 excellent, ≤ 2 very "
        "good, ≤ 3 good, ≤ 4 fair, above 4 poor."
    ),
    "factors_title": "Emission factors used",
    "factor": "factor",
    "per_unit": "kg CO2e per unit",
    "year": "year",
    "source": "source",
    "licence": "licence",
    "illustrative": "illustrative",
    "quality_excellent": "excellent",
    "quality_very good": "very good",
    "quality_good": "good",
    "quality_fair": "fair",
    "quality_poor": "poor",
    # ghg
    "gwp_set": "GWP set",
    "gwp_source": "source of the characterisation factors",
    "gwp_horizon": "GWP100 (100-year time horizon), without offsets",
    "gases_intro": (
        "Greenhouse gases considered: every gas below is tracked in every factor and emission; "
        "rows show the gases present in this inventory."
    ),
    "gas": "gas",
    "kg": "kg",
    "gwp": "GWP100",
    "co2e_note": (
        "'CO2e' rows are factors published only as aggregated CO2 equivalents; their "
        "publisher's GWP set applies and they are counted as fossil."
    ),
    "gases_considered": "gases considered",
    # allocation
    "allocation_intro": (
        "Multi-output processes and how their burdens were shared (ISO 14044 4.3.4 hierarchy: "
        "avoid by subdivision or system expansion first, then physical, then economic "
        "relationships)."
    ),
    "no_allocation": "No process of the model has co-products: no allocation was needed.",
    "co_products": "co-products",
    "method": "method",
    "justification": "justification",
    "no_justification": "(no justification given in the model)",
    "method_mass": "mass",
    "method_energy": "energy content",
    "method_economic": "economic value",
    "method_factors": "user-given factors",
    "method_substitution": "substitution (system expansion)",
    # electricity
    "electricity_intro": (
        "Electricity is modelled with location-based grid factors for the region and year of "
        "consumption. When the requested region has no factor, the closest available level is "
        "used (province, then regional grid, then national) and the fallback is stated."
    ),
    "no_electricity": "The model uses no electricity.",
    "requested": "requested",
    "used": "factor used",
    "level": "level",
    "note": "note",
    "electricity_factors_title": "Electricity factors in the model",
    # period
    "reference_period": "period for which the CFP is representative",
    "period_text": "{start} to {end}",
    "data_years": "reference years of the background data",
    "years_text": "{first} to {last}",
    # sensitivity
    "sensitivity_intro": (
        "One-at-a-time sensitivity: each model parameter given as a number was set 10 % lower "
        "and 10 % higher, the others kept, and the CFP recalculated. Parameters defined by an "
        "expression follow their inputs. The table lists the {shown} parameters with the "
        "largest effect out of {n} varied."
    ),
    "no_parameters": "The model has no numeric parameters to vary.",
    "parameter": "parameter",
    "base_value": "value",
    "minus10": "CFP at −10 %",
    "plus10": "CFP at +10 %",
    "change": "change",
    "not_computable": "not computable",
    "gwp_sensitivity_title": "Choice of GWP set",
    "gwp_sensitivity_intro": (
        "The same inventory characterised with the other GWP100 sets. Factors published only "
        "as aggregated CO2e do not change."
    ),
    "uncertainty_title": "Uncertainty",
    "uncertainty_text": (
        "No Monte Carlo or other quantitative uncertainty analysis was run for this report, "
        "so no uncertainty range is stated. The qualitative evaluation rests on the data "
        "quality rating (section 5): {label} (DQR {value}); {coverage} of the CFP carries "
        "pedigree scores."
    ),
    # interpretation
    "conclusions": "Conclusions",
    "conclusion_total": "The CFP is {total} per {amount} {unit} ({gwp}).",
    "conclusion_stage": "The largest life-cycle stage is {stage} with {share} of the CFP.",
    "conclusion_contributor": (
        "The largest single contributor is {label} in process '{process}' with {share}."
    ),
    "conclusion_sensitivity": (
        "The most influential parameter is '{parameter}': at −10 % / +10 % the CFP changes by "
        "{change}."
    ),
    "conclusion_quality": "The data quality is rated {label} (DQR {value}).",
    "limitations": "Limitations",
    "limitation_single": (
        "A CFP addresses climate change only; it does not assess other environmental impacts "
        "(ISO 14067 Annex A)."
    ),
    "limitation_illustrative": (
        "{n} emission factors are illustrative placeholders without an open published "
        "figure: results that depend on them are indicative only."
    ),
    "limitation_notes": "Notes from the calculation",
    "value_choices": "Value choices",
    "choice_gwp": "GWP set: {gwp}.",
    "choice_boundary": "System boundary: {boundary}.",
    "choice_cutoff": "Cut-off criterion: {percent} % of the CFP.",
    "choice_allocation": "Allocation: {text}.",
    "choice_electricity": "Electricity: location-based grid factors.",
    "choice_biogenic": (
        "Biogenic CO2 removals and emissions are reported separately and included in the CFP total."
    ),
    # rules
    "rules_used": "rules and standards applied",
    "rules_text": (
        "ISO 14067:2018 (GB/T 24067-2024), ISO 14044 for allocation, IPCC GWP100 "
        "characterisation; no CFP product category rules (CFP-PCR) were declared in the model."
    ),
    "critical_review": "critical review",
    "critical_review_text": (
        "This report has not been critically reviewed. A CFP intended for public communication "
        "needs a critical review (ISO 14067 6.7)."
    ),
    "scope_changes": "scope and modified scope",
    "scope_changes_text": (
        "The scope is as modelled; no modifications of the initial scope are recorded."
    ),
    # checklist
    "checklist_intro": (
        "Items a CFP study report shall include per ISO 14067:2018 clause 7, and where this "
        "report covers them. The list is recalled from the standard, not copied from it; "
        "check it against the standard's text."
    ),
    "requirement": "requirement",
    "section": "section",
    "c_values": (
        "CFP and separately fossil, biogenic, dLUC, aircraft values; results per stage (7.2)"
    ),
    "c_unit": "functional or declared unit and reference flow",
    "c_boundary": (
        "system boundary, elementary flows, cut-off criteria, omissions with justification"
    ),
    "c_processes": "significant unit processes and description of life-cycle stages",
    "c_data": "data collection and sources, data quality assessment, missing data",
    "c_ghg": "greenhouse gases considered and characterisation factors",
    "c_allocation": "allocation procedures",
    "c_electricity": "treatment of electricity",
    "c_period": "time period for which the CFP is representative",
    "c_sensitivity": "sensitivity analysis and uncertainty evaluation",
    "c_interpretation": "interpretation: conclusions and limitations",
    "c_value_choices": "disclosure and justification of value choices",
    "c_scope": "scope and modified scope, exclusions",
    "c_rules": "CFP-PCR or other supplementary requirements used",
    "c_review": "critical review statement, where applicable",
    # provenance
    "provenance_intro": (
        "Hashes that identify the model, the parameters and the factor rows used, so a "
        "verifier can recompute the result."
    ),
    "key": "key",
}

_ZH: dict[str, str] = {
    "title": "产品碳足迹研究报告",
    "subtitle": "依据 ISO 14067:2018（GB/T 24067-2024）第 7 章",
    "generated": "生成日期",
    "software": "软件",
    "page_of": "第 {n} 页，共 {total} 页",
    "contents": "目录",
    "yes": "是",
    "no": "否",
    "none": "无",
    "not_applicable": "不适用",
    "s_summary": "结果",
    "s_scope": "产品、功能单位或声明单位及基准流",
    "s_boundary": "系统边界与取舍准则",
    "s_processes": "生命周期阶段与重要单元过程",
    "s_data": "数据来源与数据质量",
    "s_ghg": "温室气体与全球增温潜势",
    "s_allocation": "分配",
    "s_electricity": "电力的处理",
    "s_period": "时间范围",
    "s_sensitivity": "敏感性分析与不确定性",
    "s_interpretation": "生命周期解释：结论、局限性与价值选择",
    "s_rules": "所用规则与鉴定性评审",
    "s_checklist": "附录 A：ISO 14067:2018 第 7 章核对表",
    "s_provenance": "附录 B：数据溯源",
    "total": "产品碳足迹（全部温室气体排放与清除）",
    "per_declared_unit": "每 {amount} {unit}",
    "split_title": "单独报告的数值（ISO 14067 7.2）",
    "part": "项目",
    "value": "数值",
    "fossil": "化石温室气体净排放与清除",
    "biogenic": "生物源温室气体排放",
    "uptake": "生物源二氧化碳清除（吸收）",
    "luc": "直接土地利用变化（dLUC）温室气体排放",
    "aircraft": "航空运输温室气体排放（已含于上述数值）",
    "pcf_excl": "不含生物源吸收的产品碳足迹（PACT）",
    "pcf_incl": "含生物源吸收的产品碳足迹（PACT）",
    "not_calculated": (
        "未计算间接土地利用变化（iLUC）、直接土地利用变化以外的土地利用排放、生物碳含量及排放时间。"
    ),
    "offsets": "碳抵消不属于产品碳足迹，未计入。",
    "chart_stages": "各生命周期阶段排放",
    "chart_contributors": "主要贡献项",
    "chart_gases": "各温室气体贡献",
    "chart_quality": "数据质量评级（1 最好，5 最差）",
    "stage": "生命周期阶段",
    "share": "占比",
    "included": "包含",
    "stage_raw_material_acquisition": "原材料获取",
    "stage_production": "生产",
    "stage_distribution": "分销",
    "stage_use": "使用",
    "stage_end_of_life": "生命末期",
    "product": "产品",
    "product_name": "名称",
    "description": "描述",
    "identifiers": "标识符",
    "cn_code": "海关（CN）编码",
    "cpc": "联合国 CPC 编码",
    "company": "组织",
    "geography": "地理范围",
    "unit_kind": "功能单位或声明单位",
    "declared_unit_text": "声明单位：{amount} {unit} 产品（部分或完整产品碳足迹，见第 3 节）",
    "reference_flow": "基准流",
    "reference_flow_text": "过程“{process}”的“{product}” {amount} {unit}",
    "mass_per_unit": "每声明单位质量",
    "boundary": "系统边界",
    "boundary_cradle-to-gate": "从摇篮到大门（部分产品碳足迹）",
    "boundary_cradle-to-grave": "从摇篮到坟墓（产品碳足迹）",
    "boundary_gate-to-gate": "从大门到大门（部分产品碳足迹）",
    "stages_included": "包含的生命周期阶段",
    "stages_omitted": "未包含的生命周期阶段",
    "omitted_reason": "不在“{boundary}”边界内",
    "elementary_flows": "基本流",
    "elementary_flows_text": (
        "温室气体排放与清除，在特征化之前按气体分别记录（见第 6 节）"
        "；其他基本流不属于产品碳足迹范围。"
    ),
    "cutoff": "取舍准则",
    "cutoff_text": (
        "产品碳足迹的 {percent} %："
        "低于此比例的过程和输入若列于下文可被舍去；贡献树中较小的分支被合并，"
        "但所有已建模的交换量均计入总量。"
    ),
    "exclusions": "被舍去的过程、输入和数据（及理由）",
    "no_exclusions": "模型未声明任何舍去项。",
    "model_comment": "模型说明",
    "processes_intro": (
        "共建模 {n} 个单元过程。贡献不低于取舍比例（{percent} %）"
        "的过程（含自身排放及其上游背景数据）"
        "标记为重要过程。"
    ),
    "process": "过程",
    "name": "名称",
    "output": "参考产品",
    "significant": "重要",
    "co2e": "kg CO2e",
    "comment": "说明",
    "contributors_title": "主要贡献的交换量",
    "exchange": "交换量",
    "amount": "数量",
    "primary": "初级数据",
    "pedigree": "谱系评分（R,C,T,G,Te）",
    "data_intro": (
        "背景数据为排放因子，每个因子均注明来源、年份、地理范围和许可。前景数量来自模型文件；"
        "模型标注的交换量为初级数据。"
    ),
    "primary_share": "初级数据占产品碳足迹的比例",
    "dqr": "数据质量评级（DQR）",
    "dqr_text": "{value}（{label}；PEF 等级）",
    "dqr_technological": "技术代表性",
    "dqr_geographical": "地理代表性",
    "dqr_temporal": "时间代表性",
    "dqr_overall": "总体",
    "coverage": "带有谱系评分的交换量占产品碳足迹的比例",
    "missing_data": "缺失数据的处理",
    "missing_data_text": (
        "无谱系评分的交换量在各指标上按 5（未知）计，因此信息缺失不会提高评级。"
        "无公开发布数值的排放因子标记为示意性数据，并列入局限性。"
    ),
    "dqr_method": (
        "DQR 为各交换量 Weidema 谱系评分按贡献（|kg CO2e|）"
        "加权的平均值；等级依据 PEF（EU 2021/2279）："
        "≤ 1.5 优秀，≤ 2 很好，≤ 3 好，≤ 4 一般，> 4 差。"
    ),
    "factors_title": "所用排放因子",
    "factor": "因子",
    "per_unit": "每单位 kg CO2e",
    "year": "年份",
    "source": "来源",
    "licence": "许可",
    "illustrative": "示意性",
    "quality_excellent": "优秀",
    "quality_very good": "很好",
    "quality_good": "好",
    "quality_fair": "一般",
    "quality_poor": "差",
    "gwp_set": "全球增温潜势（GWP）数据集",
    "gwp_source": "特征化因子来源",
    "gwp_horizon": "GWP100（100 年时间范围），不含碳抵消",
    "gases_intro": (
        "所考虑的温室气体：下列每种气体在所有因子和排放中分别追踪；表中为本清单中出现的气体。"
    ),
    "gas": "气体",
    "kg": "kg",
    "gwp": "GWP100",
    "co2e_note": (
        "“CO2e”行为仅以二氧化碳当量汇总发布的因子，采用其发布方的 GWP 数据集，并计为化石排放。"
    ),
    "gases_considered": "所考虑的气体",
    "allocation_intro": (
        "多产出过程及其负荷的分配方式（ISO 14044 4.3.4 的优先顺序：先通过细分或系统扩展避免分配，"
        "再按物理关系，最后按经济关系）。"
    ),
    "no_allocation": "模型中没有带共生产品的过程，无需分配。",
    "co_products": "共生产品",
    "method": "方法",
    "justification": "理由",
    "no_justification": "（模型未给出理由）",
    "method_mass": "质量",
    "method_energy": "能量含量",
    "method_economic": "经济价值",
    "method_factors": "用户给定系数",
    "method_substitution": "替代（系统扩展）",
    "electricity_intro": (
        "电力采用消费地区和年份的基于位置的电网排放因子。若所请求的地区没有因子，则依次使用省级、"
        "区域电网、全国的最接近层级，并说明所作的替代。"
    ),
    "no_electricity": "模型未使用电力。",
    "requested": "请求",
    "used": "所用因子",
    "level": "层级",
    "note": "说明",
    "electricity_factors_title": "模型中的电力排放因子",
    "reference_period": "产品碳足迹所代表的时间段",
    "period_text": "{start} 至 {end}",
    "data_years": "背景数据的参考年份",
    "years_text": "{first} 至 {last}",
    "sensitivity_intro": (
        "单因素敏感性分析：将每个以数值给出的模型参数分别降低和提高 10 %，其他参数保持不变，"
        "重新计算产品碳足迹。以表达式定义的参数随其输入变化。表中列出 {n} 个被调整参数中影响最大的 "
        "{shown} 个。"
    ),
    "no_parameters": "模型没有可调整的数值参数。",
    "parameter": "参数",
    "base_value": "数值",
    "minus10": "−10 % 时的碳足迹",
    "plus10": "+10 % 时的碳足迹",
    "change": "变化",
    "not_computable": "无法计算",
    "gwp_sensitivity_title": "GWP 数据集的选择",
    "gwp_sensitivity_intro": (
        "以其他 GWP100 数据集对同一清单进行特征化。仅以 CO2e 汇总发布的因子不变。"
    ),
    "uncertainty_title": "不确定性",
    "uncertainty_text": (
        "本报告未进行蒙特卡洛或其他定量不确定性分析，因此不给出不确定性范围。定性评价基于数据质量评级"
        "（第 5 节）：{label}（DQR {value}）；带有谱系评分的部分占产品碳足迹的 {coverage}。"
    ),
    "conclusions": "结论",
    "conclusion_total": "产品碳足迹为每 {amount} {unit} {total}（{gwp}）。",
    "conclusion_stage": "贡献最大的生命周期阶段为“{stage}”，占产品碳足迹的 {share}。",
    "conclusion_contributor": "最大的单项贡献为过程“{process}”中的 {label}，占 {share}。",
    "conclusion_sensitivity": (
        "影响最大的参数为“{parameter}”：在 −10 % / +10 % 时产品碳足迹变化 {change}。"
    ),
    "conclusion_quality": "数据质量评级为“{label}”（DQR {value}）。",
    "limitations": "局限性",
    "limitation_single": "产品碳足迹仅涉及气候变化，不评价其他环境影响（ISO 14067 附录 A）。",
    "limitation_illustrative": (
        "{n} 个排放因子为无公开发布数值的示意性数据：依赖这些因子的结果仅供参考。"
    ),
    "limitation_notes": "计算说明",
    "value_choices": "价值选择",
    "choice_gwp": "GWP 数据集：{gwp}。",
    "choice_boundary": "系统边界：{boundary}。",
    "choice_cutoff": "取舍准则：产品碳足迹的 {percent} %。",
    "choice_allocation": "分配：{text}。",
    "choice_electricity": "电力：基于位置的电网排放因子。",
    "choice_biogenic": "生物源二氧化碳清除和排放单独报告，并计入产品碳足迹总量。",
    "rules_used": "所用规则和标准",
    "rules_text": (
        "ISO 14067:2018（GB/T 24067-2024）、ISO 14044（分配）、IPCC GWP100 特征化；"
        "模型未声明碳足迹产品种类规则（CFP-PCR）。"
    ),
    "critical_review": "鉴定性评审",
    "critical_review_text": (
        "本报告未经鉴定性评审。用于公开沟通的产品碳足迹需要进行鉴定性评审（ISO 14067 6.7）。"
    ),
    "scope_changes": "范围及范围的修改",
    "scope_changes_text": "范围与模型一致；未记录对初始范围的修改。",
    "checklist_intro": (
        "ISO 14067:2018 第 7 章要求产品碳足迹研究报告包含的内容，以及本报告对应的章节。"
        "此清单根据标准内容回忆整理，并非原文摘录；请与标准原文核对。"
    ),
    "requirement": "要求",
    "section": "章节",
    "c_values": (
        "产品碳足迹及单独报告的化石、生物源、直接土地利用变化、航空运输数值；各阶段结果（7.2）"
    ),
    "c_unit": "功能单位或声明单位及基准流",
    "c_boundary": "系统边界、基本流、取舍准则、舍去项及理由",
    "c_processes": "重要单元过程及生命周期阶段的描述",
    "c_data": "数据收集与来源、数据质量评价、缺失数据",
    "c_ghg": "所考虑的温室气体及特征化因子",
    "c_allocation": "分配程序",
    "c_electricity": "电力的处理",
    "c_period": "产品碳足迹所代表的时间段",
    "c_sensitivity": "敏感性分析与不确定性评价",
    "c_interpretation": "生命周期解释：结论与局限性",
    "c_value_choices": "价值选择的公开与理由",
    "c_scope": "范围及范围的修改、排除项",
    "c_rules": "所用碳足迹产品种类规则（CFP-PCR）或其他补充要求",
    "c_review": "鉴定性评审声明（如适用）",
    "provenance_intro": "用于识别模型、参数和所用因子行的哈希值，供核查人员复算结果。",
    "key": "键",
}

#: Clause-7 checklist: message key of the requirement -> section number in the report.
CHECKLIST: tuple[tuple[str, int], ...] = (
    ("c_values", 1),
    ("c_unit", 2),
    ("c_boundary", 3),
    ("c_processes", 4),
    ("c_data", 5),
    ("c_ghg", 6),
    ("c_allocation", 7),
    ("c_electricity", 8),
    ("c_period", 9),
    ("c_sensitivity", 10),
    ("c_interpretation", 11),
    ("c_value_choices", 11),
    ("c_scope", 3),
    ("c_rules", 12),
    ("c_review", 12),
)

#: Section keys in report order; section ``n`` is ``SECTIONS[n - 1]``.
SECTIONS: tuple[str, ...] = (
    "s_summary",
    "s_scope",
    "s_boundary",
    "s_processes",
    "s_data",
    "s_ghg",
    "s_allocation",
    "s_electricity",
    "s_period",
    "s_sensitivity",
    "s_interpretation",
    "s_rules",
)

_CATALOGUE: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"en": MappingProxyType(_EN), "zh": MappingProxyType(_ZH)}
)


def check_language(lang: str) -> str:
    """Return ``lang`` if the catalogue has it, else raise :class:`UnknownLanguageError`."""
    if lang not in _CATALOGUE:
        raise UnknownLanguageError(
            f"unknown report language {lang!r}; use one of {', '.join(LANGUAGES)} "
            "(en: English, zh: Simplified Chinese)"
        )
    return lang


def messages(lang: str) -> Mapping[str, str]:
    """The read-only catalogue of one language (raises :class:`UnknownLanguageError`)."""
    return _CATALOGUE[check_language(lang)]


#: Chinese names of the gas flows (English names come from :mod:`openpcf.methods.gases`).
GAS_NAMES_ZH: Mapping[str, str] = MappingProxyType(
    {
        "CO2-fossil": "化石二氧化碳",
        "CH4-fossil": "化石甲烷",
        "N2O": "氧化亚氮",
        "SF6": "六氟化硫",
        "NF3": "三氟化氮",
        "CF4": "四氟化碳（PFC-14）",
        "C2F6": "六氟乙烷（PFC-116）",
        "HFC-23": "HFC-23",
        "HFC-32": "HFC-32",
        "HFC-125": "HFC-125",
        "HFC-134a": "HFC-134a",
        "HFC-143a": "HFC-143a",
        "CO2e": "汇总二氧化碳当量",
        "CO2-biogenic": "生物源二氧化碳",
        "CH4-biogenic": "生物源甲烷",
        "CO2-uptake": "生物源二氧化碳吸收",
        "CO2-luc": "直接土地利用变化二氧化碳",
    }
)

#: Chinese names of the PACT declared units.
DECLARED_UNITS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "kilogram": "千克",
        "liter": "升",
        "cubic meter": "立方米",
        "kilowatt hour": "千瓦时",
        "megajoule": "兆焦",
        "ton kilometer": "吨公里",
        "square meter": "平方米",
        "piece": "件",
    }
)
